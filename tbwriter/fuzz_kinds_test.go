package tbwriter

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// FuzzDecodeKinds feeds arbitrary bytes, as a summary value and as an
// event, to the decoders of the new kinds: they must not panic, and what
// they return must be consistent with the value.
func FuzzDecodeKinds(f *testing.F) {
	seed := func(v *tbpb.Summary_Value, err error) {
		if err == nil {
			b, _ := proto.Marshal(v)
			f.Add(b)
		}
	}
	seed(PRCurveValue("p", PRCounts{TP: []float64{1, 0}, FP: []float64{1, 0}, TN: []float64{0, 1}, FN: []float64{0, 1}, Precision: []float64{0.5, 0}, Recall: []float64{1, 0}}))
	seed(AudioValue("a", []float32{0, 1}, 1, 8000))
	seed(VideoValue("v", []image.Image{solid(2, 2, color.RGBA{1, 2, 3, 255})}, 4))
	seed(CustomScalarsValue(testLayout))
	if vs, err := MeshValues("m", testMesh); err == nil {
		for _, v := range vs {
			seed(v, nil)
		}
	}
	if gd, err := testGraph().GraphDef(); err == nil {
		ev, _ := GraphEvent(gd)
		b, _ := proto.Marshal(ev)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := new(tbpb.Summary_Value)
		if proto.Unmarshal(data, v) == nil {
			if c, ok := PRCurveOf(v); ok {
				n := c.Thresholds()
				for _, col := range [][]float64{c.FP, c.TN, c.FN, c.Precision, c.Recall} {
					if len(col) != n {
						t.Fatalf("PR columns of lengths %d and %d", n, len(col))
					}
				}
			}
			if a, ok := AudioOf(v); ok {
				_ = a.Seconds()
			}
			if vi, ok := VideoOf(v); ok && (vi.Frames < 1 || len(vi.Delays) != vi.Frames) {
				t.Fatalf("video %+v", vi)
			}
			CustomScalarsOf(v)
			if m, ok := MeshOf(v); ok {
				n := int64(1)
				for _, d := range v.GetTensor().GetTensorShape().GetDim() {
					n *= d.GetSize()
				}
				if int64(len(m.Values)) != n {
					t.Fatalf("mesh: %d values for shape %v", len(m.Values), v.GetTensor().GetTensorShape())
				}
			}
		}
		ev := new(tbpb.Event)
		if proto.Unmarshal(data, ev) == nil {
			GraphOf(ev)
		}
	})
}

// FuzzProjectorConfig parses arbitrary text as a projector config: a config
// that parses must print (FormatProjectorConfig) to text that parses back to
// the same message.
func FuzzProjectorConfig(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(pytorchDir, "run", ProjectorConfigFile)); err == nil {
		f.Add(b)
	}
	f.Add([]byte("model_checkpoint_dir: \"a\\001\\\"\"\nembeddings { tensor_shape: 3 sprite { single_image_dim: 2 } }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := new(tbpb.ProjectorConfig)
		if prototext.Unmarshal(data, cfg) != nil {
			return
		}
		out := FormatProjectorConfig(cfg)
		back := new(tbpb.ProjectorConfig)
		if err := prototext.Unmarshal(out, back); err != nil {
			t.Fatalf("FormatProjectorConfig printed %q, which does not parse: %v", out, err)
		}
		if !proto.Equal(cfg, back) {
			t.Fatalf("round trip changed the config:\n%v\n%v", cfg, back)
		}
	})
}

// FuzzPyFloat checks that the Python-style float text reads back as the
// same number.
func FuzzPyFloat(f *testing.F) {
	for _, x := range []float64{0, 1e-5, 1e16, 123, 0.1, math.MaxFloat64, 5e-324} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		s := string(appendPyFloat(nil, x))
		if math.IsNaN(x) {
			if s != "nan" {
				t.Fatalf("NaN printed %q", s)
			}
			return
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(back) != math.Float64bits(x) {
			t.Fatalf("%v printed %q, reads back %v (%v)", x, s, back, err)
		}
	})
}
