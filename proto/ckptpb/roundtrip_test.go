package ckptpb_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// TestRoundTrip sets every field (including float edge values that a lossy
// encoding would change) and checks that marshal + unmarshal preserves them.
func TestRoundTrip(t *testing.T) {
	tensor := func(name string, data ...float32) *ckptpb.Tensor {
		return &ckptpb.Tensor{Name: name, Shape: []int64{int64(len(data))}, Data: data}
	}
	want := &ckptpb.Checkpoint{
		FormatVersion: 1,
		Model:         "lenet5-mnist",
		Epoch:         9,
		GlobalStep:    9370,
		BatchInEpoch:  12,
		Params: []*ckptpb.Tensor{
			tensor("a", 1, float32(math.Copysign(0, -1)), float32(math.Inf(1)), math.SmallestNonzeroFloat32, math.MaxFloat32),
			tensor("b", float32(math.NaN())),
		},
		Optimizer:    &ckptpb.SGD{Lr: 0.01, Momentum: 0.9, HasBuffers: true, MomentumBuffer: []*ckptpb.Tensor{tensor("a", 0.5)}},
		Scheduler:    &ckptpb.CosineSchedule{BaseLr: 0.01, EtaMin: 1e-4, TMax: 20, LastEpoch: 9},
		RngState:     []byte("pcg:\x00\x01\x02"),
		Config:       &ckptpb.Config{Epochs: 20, BatchSize: 64, Lr: 0.01, Momentum: 0.9, EtaMin: 1e-4, Seed: math.MaxUint64, LimitTrain: 1, LimitTest: 2, SaveEverySteps: 3, Keep: 4, Data: "/data"},
		History:      []*ckptpb.EpochMetrics{{Epoch: 0, Step: 937, TrainLoss: 0.3, TestLoss: 0.1, TestAcc: 0.97, Lr: 0.01, Seconds: 12.5}},
		Kernel:       "avx2",
		UnixNano:     1669720000123456789,
		EpochLossSum: 1.25,
	}
	b, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got := new(ckptpb.Checkpoint)
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	// NaN != NaN, so compare the NaN element by bits and the rest with cmp.
	if g := got.GetParams()[1].GetData()[0]; math.Float32bits(g) != math.Float32bits(float32(math.NaN())) {
		t.Errorf("NaN element came back as %v (bits %#x)", g, math.Float32bits(g))
	}
	got.Params[1].Data[0], want.Params[1].Data[0] = 0, 0
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !math.Signbit(float64(got.GetParams()[0].GetData()[1])) {
		t.Error("sign of -0 lost")
	}
}
