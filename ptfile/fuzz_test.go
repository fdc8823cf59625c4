package ptfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the torch.save reader: it must never
// panic, never run past its limits, and fail only with the documented
// errors. The seeds are real PyTorch files (a small one is built from a
// fixture's first tensors) and the hostile fixtures.
func FuzzDecode(f *testing.F) {
	hostile, _ := filepath.Glob(filepath.Join(fixtures, "hostile", "*.pt"))
	hostile = append(hostile, filepath.Join(fixtures, "legacy", "os_system.pt"))
	for _, p := range hostile {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	if c, err := ReadCheckpoint(filepath.Join(fixtures, "run", "LenetMnist0.pt")); err == nil {
		c.Model = c.Model[:2] // conv1: 156 values, a small seed
		c.Optimizer.Params = c.Optimizer.Params[:2]
		c.Optimizer.MomentumBuffers = c.Optimizer.MomentumBuffers[:2]
		var buf bytes.Buffer
		if err := WriteCheckpoint(&buf, "seed", c); err == nil {
			f.Add(buf.Bytes())
		}
	}
	// A small file of the pre-1.6 format (testdata/pytorch-run/legacy.py).
	if b, err := os.ReadFile(filepath.Join(fixtures, "legacy", "small.pt")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrNotTorchFile) && !errors.Is(err, ErrCorrupt) &&
				!errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrForbidden) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		// Whatever decodes can be mapped (or refused) and written again.
		if c, err := CheckpointOf(v); err == nil {
			var buf bytes.Buffer
			if err := WriteCheckpoint(&buf, "again", c); err != nil && !isEncodeLimit(err) {
				t.Fatalf("decoded checkpoint does not encode: %v", err)
			}
		} else if !errors.Is(err, ErrLayout) {
			t.Fatalf("CheckpointOf: undocumented error: %v", err)
		}
	})
}

// isEncodeLimit reports an Encode error that a decoded tree may hit: a
// non-float32 tensor (read for its shape only).
func isEncodeLimit(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("only float32"))
}

// FuzzScanPickle checks the opcode scan alone: it never panics and never
// accepts a pickle whose GLOBALs are not on the allow-list.
func FuzzScanPickle(f *testing.F) {
	f.Add([]byte("\x80\x02}q\x00.")) // {}
	f.Add([]byte("cposix\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85R."))
	f.Add([]byte("ccollections\nOrderedDict\n)R."))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := scanPickle(data)
		var fe *ForbiddenError
		if errors.As(err, &fe) && allowed[fe.Global()] {
			t.Fatalf("allowed global %s reported as forbidden", fe.Global())
		}
	})
}

// FuzzReadSafetensors feeds arbitrary bytes to the safetensors parser: no
// panic, documented errors only, and what parses writes back to the same
// tensors.
func FuzzReadSafetensors(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteSafetensors(&buf, []NamedTensor{
		{"a", &Tensor{Shape: []int{2}, Data: []float32{1, 2}}},
		{"b", &Tensor{Shape: []int{0, 3}, Data: []float32{}}},
	}, map[string]string{"format": "pt"})
	f.Add(buf.Bytes())
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := ReadSafetensors(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotTorchFile) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		for _, nt := range ts {
			if nt.Tensor.DType != "float32" {
				return // written back only as F32
			}
		}
		var out bytes.Buffer
		if err := WriteSafetensors(&out, ts, meta); err != nil {
			return // e.g. a name WriteSafetensors refuses ("")
		}
		back, _, err := ReadSafetensors(out.Bytes())
		if err != nil || len(back) != len(ts) {
			t.Fatalf("rewritten file does not read back: %v", err)
		}
	})
}

// FuzzPickle wraps arbitrary bytes as the data.pkl of an otherwise valid
// archive (with a 16-float storage record "0"), so that the fuzzer works on
// the pickle and the unpickler rather than on zip checksums.
func FuzzPickle(f *testing.F) {
	d := &Dict{Ordered: true}
	d.Set("w", &Tensor{Shape: []int{4, 4}, Data: make([]float32, 16)})
	top := &Dict{}
	top.Set("start_epoch", int64(1))
	top.Set("model_state_dict", d)
	e := &encoder{}
	e.buf = append(e.buf, opProto, 2)
	_ = e.value(top, 0)
	e.buf = append(e.buf, opStop)
	f.Add(e.buf)
	f.Add([]byte("\x80\x02ccollections\nOrderedDict\n)R}b."))
	f.Add([]byte("\x80\x02]q\x00h\x00a."))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		b := archiveWith(t, pkl)
		_, err := Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrForbidden) {
			t.Fatalf("undocumented error: %v", err)
		}
	})
}

// FuzzLegacy works on the pre-1.6 format: the input follows the magic
// number's pickle, so every mutation reaches the legacy reader (its
// protocol, sys_info, object and key pickles and the raw storages after
// them). No panic, documented errors only, and what decodes maps to a
// Checkpoint or fails with ErrLayout.
func FuzzLegacy(f *testing.F) {
	magic := append(slices.Clone(legacyMagic), opStop)
	for _, name := range []string{"small.pt", "os_system.pt"} {
		if b, err := os.ReadFile(filepath.Join(fixtures, "legacy", name)); err == nil && bytes.HasPrefix(b, magic) {
			f.Add(b[len(magic):])
		}
	}
	f.Fuzz(func(t *testing.T, rest []byte) {
		data := append(slices.Clone(magic), rest...)
		v, err := Decode(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrForbidden) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if _, err := CheckpointOf(v); err != nil && !errors.Is(err, ErrLayout) {
			t.Fatalf("CheckpointOf: undocumented error: %v", err)
		}
	})
}
