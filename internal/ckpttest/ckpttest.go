package ckpttest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// Diff compares got with the reference want, tensor by tensor: the same
// number of tensors, and each with want's name, shape and values, bit for
// bit (NaN payloads and the sign of zero count). It returns one line per
// tensor that differs, each starting with what; none if they are the same.
func Diff(what string, got, want []*ckptpb.Tensor) []string {
	if len(got) != len(want) {
		return []string{fmt.Sprintf("%s: %d tensors, reference %d", what, len(got), len(want))}
	}
	var probs []string
	for i := range want {
		g, w := got[i], want[i]
		if g.GetName() != w.GetName() || !slices.Equal(g.GetShape(), w.GetShape()) || len(g.GetData()) != len(w.GetData()) {
			probs = append(probs, fmt.Sprintf("%s %d: %s %v (%d values), reference %s %v (%d values)",
				what, i, g.GetName(), g.GetShape(), len(g.GetData()), w.GetName(), w.GetShape(), len(w.GetData())))
			continue
		}
		diff, first := 0, -1
		for j, v := range w.GetData() {
			if math.Float32bits(g.GetData()[j]) != math.Float32bits(v) {
				diff++
				if first < 0 {
					first = j
				}
			}
		}
		if diff > 0 {
			gv, wv := g.GetData()[first], w.GetData()[first]
			probs = append(probs, fmt.Sprintf("%s %s: %d of %d values differ in their bits; first at %d: %v (%#08x), reference %v (%#08x)",
				what, w.GetName(), diff, len(w.GetData()), first, gv, math.Float32bits(gv), wv, math.Float32bits(wv)))
		}
	}
	return probs
}

// Same stops t, listing [Diff]'s lines, unless got equals want bit for bit.
func Same(t testing.TB, what string, got, want []*ckptpb.Tensor) {
	t.Helper()
	if probs := Diff(what, got, want); len(probs) > 0 {
		t.Fatal(strings.Join(probs, "\n"))
	}
}

// FinalParams returns the parameters of the newest checkpoint in dir, the
// run directory of a finished run. It fails t unless that checkpoint loads
// with none skipped and is at the end of the run's last epoch.
func FinalParams(t testing.TB, dir string) []*ckptpb.Tensor {
	t.Helper()
	c, path, skipped, err := ckpt.Newest(dir)
	if err != nil || len(skipped) > 0 {
		t.Fatalf("newest checkpoint in %s: %v (skipped %v)", dir, err, skipped)
	}
	if e, want := c.GetEpoch(), c.GetConfig().GetEpochs(); e != want || c.GetBatchInEpoch() != 0 {
		t.Fatalf("newest checkpoint %s is at epoch %d, batch %d: the run did not finish its %d epochs",
			path, e, c.GetBatchInEpoch(), want)
	}
	return c.GetParams()
}
