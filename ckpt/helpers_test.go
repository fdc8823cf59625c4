package ckpt

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// sample returns a valid checkpoint at the given step whose parameters hold
// the given tensor sizes (LeNet-5's state_dict shapes when lenet is true).
func sample(step int64, lenet bool) *ckptpb.Checkpoint {
	shapes := [][]int64{{2, 3}, {2}}
	names := []string{"w", "b"}
	if lenet {
		// LeNet-5 as the trainer saves it: conv 1->6 5x5, conv 6->16 5x5, 400->120->84->10.
		shapes = [][]int64{{6, 1, 5, 5}, {6}, {16, 6, 5, 5}, {16}, {120, 400}, {120}, {84, 120}, {84}, {10, 84}, {10}}
		names = []string{"convModel.0.weight", "convModel.0.bias", "convModel.3.weight", "convModel.3.bias",
			"lineNet.1.weight", "lineNet.1.bias", "lineNet.3.weight", "lineNet.3.bias", "lineNet.5.weight", "lineNet.5.bias"}
	}
	rng := rand.New(rand.NewPCG(uint64(step), 1))
	tensors := func() []*ckptpb.Tensor {
		var ts []*ckptpb.Tensor
		for i, s := range shapes {
			n := int64(1)
			for _, d := range s {
				n *= d
			}
			data := make([]float32, n)
			for j := range data {
				data[j] = rng.Float32() - 0.5
			}
			ts = append(ts, &ckptpb.Tensor{Name: names[i], Shape: s, Data: data})
		}
		return ts
	}
	return &ckptpb.Checkpoint{
		FormatVersion: FormatVersion,
		Model:         "lenet5-mnist",
		Epoch:         step / 10,
		GlobalStep:    step,
		BatchInEpoch:  step % 10,
		Params:        tensors(),
		Optimizer:     &ckptpb.SGD{Lr: 0.01, Momentum: 0.9, HasBuffers: true, MomentumBuffer: tensors()},
		Scheduler:     &ckptpb.CosineSchedule{BaseLr: 0.01, EtaMin: 1e-4, TMax: 20, LastEpoch: step / 10},
		RngState:      []byte{1, 2, 3, byte(step)},
		Config:        &ckptpb.Config{Epochs: 20, BatchSize: 64, Lr: 0.01, Momentum: 0.9, EtaMin: 1e-4, Seed: 7},
		History:       []*ckptpb.EpochMetrics{{Epoch: 0, Step: 10, TrainLoss: 0.5, TestLoss: 0.4, TestAcc: 0.9, Lr: 0.01, Seconds: 1}},
		Kernel:        "generic",
		UnixNano:      1_700_000_000_000_000_000 + step,
		EpochLossSum:  float64(step) / 3,
	}
}

// envelope wraps payload in a header with the given version and a correct
// header CRC, bypassing encode's validation, to build hostile files.
func envelope(version uint32, payload []byte) []byte {
	b := append([]byte(nil), magic[:]...)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
}

func mustMarshal(t testing.TB, c *ckptpb.Checkpoint) []byte {
	t.Helper()
	b, err := proto.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEncode(t testing.TB, c *ckptpb.Checkpoint) []byte {
	t.Helper()
	b, err := encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile replaces path with a new file holding b. It removes the old file
// first: rewriting a file in place through O_TRUNC makes ext4 flush it on
// close (its auto_da_alloc heuristic), which costs milliseconds per case.
func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSave(t testing.TB, path string, c *ckptpb.Checkpoint) {
	t.Helper()
	if err := Save(path, c); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

// dirNames lists the names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func putLE32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func putLE64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }
func crc32c(b []byte) uint32     { return crc32.Checksum(b, castagnoli) }

// withHooks replaces the commit hooks for one test.
func withHooks(t *testing.T, edit func()) {
	saved := hooks
	t.Cleanup(func() { hooks = saved })
	edit()
}
