package model

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// torchRef is model/testdata/torch_reference.json, written by
// model/testdata/torch_reference.py with PyTorch (Debian python3-torch
// 1.13): the demo's LeNet-5 on formula-made weights and four images.
type torchRef struct {
	Source string      `json:"source"`
	Labels []uint8     `json:"labels"`
	Logits [][]float64 `json:"logits"`
	Loss   float64     `json:"loss"`
	Params map[string]struct {
		DataSum    float64            `json:"data_sum"`
		GradSum    float64            `json:"grad_sum"`
		GradAbsSum float64            `json:"grad_abs_sum"`
		GradAt     map[string]float64 `json:"grad_at"`
	} `json:"params"`
}

// TestMatchesPyTorch loads the same weights and images as the PyTorch
// script (same integer formulas, same IEEE operations) and compares
// logits, loss and gradients with PyTorch's.
func TestMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref torchRef
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	m := NewLeNet5(seeded(1))
	fanIn := []int{25, 25, 150, 150, 400, 400, 120, 120, 84, 84}
	for ti, p := range m.Params() {
		// value j: ((j*7919 + t*104729 + 13) mod 2001 - 1000)/1000 · 1/√fan_in,
		// as param_values in the script
		bound := 1 / math.Sqrt(float64(fanIn[ti]))
		var sum float64
		for j := range p.Data {
			q := (j*7919+ti*104729+13)%2001 - 1000
			p.Data[j] = float32(float64(q) / 1000.0 * bound)
			sum += float64(p.Data[j])
		}
		want := ref.Params[p.Name].DataSum
		if math.Abs(sum-want) > 1e-9*(1+math.Abs(want)) {
			t.Fatalf("%s: parameter sum %.12g, PyTorch's %.12g: the weights differ", p.Name, sum, want)
		}
	}
	n := len(ref.Labels)
	x := make([]float32, n*ImageSize)
	for i := range n {
		for p := range ImageSize {
			// pixel_bytes in the script, then ToTensor + Normalize(0.5, 0.5) in float32
			v := float32((i*31 + p*17 + (p/28)*5) % 256)
			v /= 255
			v -= 0.5
			v /= 0.5
			x[i*ImageSize+p] = v
		}
	}

	loss := m.TrainBatch(x, ref.Labels)
	if d := math.Abs(float64(loss) - ref.Loss); d > 1e-6*ref.Loss {
		t.Errorf("loss %.9g, PyTorch %.9g", loss, ref.Loss)
	}
	m.ensure(n, false)
	logits := m.forward(m.shards[0].acts, m.shards[0].sc, x, n)
	for i, row := range ref.Logits {
		for j, want := range row {
			if got := float64(logits[i*NumClasses+j]); math.Abs(got-want) > 1e-6+1e-5*math.Abs(want) {
				t.Errorf("logit [%d][%d] = %.8g, PyTorch %.8g", i, j, got, want)
			}
		}
	}
	for _, p := range m.Params() {
		r := ref.Params[p.Name]
		var sum, abs float64
		for _, g := range p.Grad {
			sum += float64(g)
			abs += math.Abs(float64(g))
		}
		if math.Abs(abs-r.GradAbsSum) > 1e-4*r.GradAbsSum || math.Abs(sum-r.GradSum) > 1e-4*r.GradAbsSum {
			t.Errorf("%s: grad sum %.8g abs-sum %.8g, PyTorch %.8g %.8g", p.Name, sum, abs, r.GradSum, r.GradAbsSum)
		}
		if len(r.GradAt) < 5 {
			t.Fatalf("%s: fixture has only %d sampled gradients", p.Name, len(r.GradAt))
		}
		scale := r.GradAbsSum / float64(len(p.Grad)) // mean |grad|
		for k, want := range r.GradAt {
			j, err := strconv.Atoi(k)
			if err != nil {
				t.Fatal(err)
			}
			if got := float64(p.Grad[j]); math.Abs(got-want) > 2e-5*(scale+math.Abs(want)) {
				t.Errorf("%s grad[%d] = %.8g, PyTorch %.8g", p.Name, j, got, want)
			}
		}
	}
}
