package trainer

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// torchReference is trainer/testdata/torch_reference.json, printed by
// trainer/testdata/torch_reference.py with real PyTorch (torch 1.13 from
// Debian's python3-torch): torch.optim.SGD and
// torch.optim.lr_scheduler.CosineAnnealingLR.
type torchReference struct {
	Source string `json:"source"`
	Cosine []struct {
		BaseLR     float64   `json:"base_lr"`
		EtaMin     float64   `json:"eta_min"`
		TMax       int64     `json:"t_max"`
		Stepped    []float64 `json:"stepped"`
		ClosedForm []float64 `json:"closed_form"`
	} `json:"cosine"`
	SGD []struct {
		Name     string     `json:"name"`
		Momentum float64    `json:"momentum"`
		LRs      []float64  `json:"lrs"`
		Param0   []uint32   `json:"param0"`
		Grads    [][]uint32 `json:"grads"`
		Params   [][]uint32 `json:"params"`
		Buffers  [][]uint32 `json:"buffers"`
	} `json:"sgd"`
}

func loadTorchReference(t *testing.T) *torchReference {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref torchReference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatalf("testdata/torch_reference.json: %v", err)
	}
	if len(ref.Cosine) == 0 || len(ref.SGD) == 0 {
		t.Fatal("testdata/torch_reference.json holds no cases")
	}
	return &ref
}

func fromBits(b []uint32) []float32 {
	f := make([]float32, len(b))
	for i, v := range b {
		f[i] = math.Float32frombits(v)
	}
	return f
}

func ulpDiff64(a, b float64) int64 {
	d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
	if d < 0 {
		d = -d
	}
	return d
}

func TestCosineLRMatchesPyTorch(t *testing.T) {
	ref := loadTorchReference(t)
	for _, c := range ref.Cosine {
		for e, want := range c.ClosedForm {
			got := CosineLR(c.BaseLR, c.EtaMin, c.TMax, int64(e))
			// Go's math.Cos and glibc's cos differ in the last places (3 ulp seen at T_max 20, epoch 16).
			if d := ulpDiff64(got, want); d > 4 {
				t.Errorf("CosineLR(%g, %g, %d, %d) = %v, PyTorch closed form %v (%d ulp apart)",
					c.BaseLR, c.EtaMin, c.TMax, e, got, want, d)
			}
			// The stepped (recursive) scheduler drifts a little from the closed form.
			if stepped := c.Stepped[e]; math.Abs(got-stepped) > 1e-15*c.BaseLR {
				t.Errorf("CosineLR(%g, %g, %d, %d) = %v, PyTorch scheduler stepped %d times: %v",
					c.BaseLR, c.EtaMin, c.TMax, e, got, e, stepped)
			}
			// What reaches the float32 weights is float32(lr); it must be exact.
			if int64(e) <= c.TMax && float32(got) != float32(want) {
				t.Errorf("float32(CosineLR(%g, %g, %d, %d)) = %v, PyTorch %v", c.BaseLR, c.EtaMin, c.TMax, e, float32(got), float32(want))
			}
		}
		if got := CosineLR(c.BaseLR, c.EtaMin, c.TMax, 0); got != c.BaseLR {
			t.Errorf("CosineLR at epoch 0 = %v, want base lr %v", got, c.BaseLR)
		}
	}
}

func TestSGDMatchesPyTorch(t *testing.T) {
	ref := loadTorchReference(t)
	for _, c := range ref.SGD {
		t.Run(c.Name, func(t *testing.T) {
			p := fromBits(c.Param0)
			o := NewSGD(c.Momentum, []int{len(p)})
			if o.HasBuffers() {
				t.Fatal("HasBuffers before the first step")
			}
			for s := range c.Grads {
				o.Step([][]float32{p}, [][]float32{fromBits(c.Grads[s])}, c.LRs[s])
				wantP, wantB := fromBits(c.Params[s]), fromBits(c.Buffers[s])
				for j := range p {
					if math.Float32bits(o.Buffers()[0][j]) != c.Buffers[s][j] {
						t.Errorf("step %d: buf[%d] = %v, PyTorch %v", s, j, o.Buffers()[0][j], wantB[j])
					}
					if math.Float32bits(p[j]) != c.Params[s][j] {
						t.Errorf("step %d: param[%d] = %v, PyTorch %v", s, j, p[j], wantP[j])
					}
				}
			}
		})
	}
}
