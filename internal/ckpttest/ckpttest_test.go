package ckpttest

import (
	"math"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

func tensors(w ...float32) []*ckptpb.Tensor {
	return []*ckptpb.Tensor{
		{Name: "a", Shape: []int64{2}, Data: []float32{1, 2}},
		{Name: "b", Shape: []int64{int64(len(w))}, Data: w},
	}
}

// TestDiff: the same tensors give no line; a zero of the other sign, a
// renamed tensor, another shape and a missing tensor each give one, naming
// the tensor.
func TestDiff(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	if probs := Diff("params", tensors(0, 3), tensors(0, 3)); len(probs) != 0 {
		t.Errorf("same tensors: %q", probs)
	}
	renamed := tensors(0, 3)
	renamed[0].Name = "c"
	reshaped := tensors(0, 3)
	reshaped[1].Shape = []int64{1, 2}
	for _, tc := range []struct {
		name      string
		got, want []*ckptpb.Tensor
		line      string
	}{
		{"-0", tensors(negZero, 3), tensors(0, 3), "params b: 1 of 2 values differ in their bits; first at 0: -0 (0x80000000), reference 0 (0x00000000)"},
		{"renamed", renamed, tensors(0, 3), "params 0: c [2] (2 values), reference a [2] (2 values)"},
		{"reshaped", reshaped, tensors(0, 3), "params 1: b [1 2] (2 values), reference b [2] (2 values)"},
		{"missing", tensors(0, 3)[:1], tensors(0, 3), "params: 1 tensors, reference 2"},
	} {
		probs := Diff("params", tc.got, tc.want)
		if len(probs) != 1 || probs[0] != tc.line {
			t.Errorf("%s: %q, want [%q]", tc.name, probs, tc.line)
		}
	}
	if probs := Diff("w", tensors(5, 6), tensors(5, float32(math.NaN()))); len(probs) != 1 || !strings.HasPrefix(probs[0], "w b: 1 of 2") {
		t.Errorf("NaN reference: %q", probs)
	}
}
