package tbwriter

import (
	"bytes"
	"testing"
	"time"
)

// TestMapBytesDeterministic: values holding protobuf maps (a graph node's
// attributes, the hparams of a session start) are the same bytes every time
// they are built, so a resumed session re-logging them writes the same
// records. proto.Marshal's map order is random per call, so with eight
// entries 50 builds would almost surely differ somewhere.
func TestMapBytesDeterministic(t *testing.T) {
	graph := func() []byte {
		g := NewGraph()
		n := g.Node("net/conv", "Conv2d")
		for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
			n.Attr(k, k)
		}
		gd, err := g.GraphDef()
		if err != nil {
			t.Fatal(err)
		}
		ev, err := GraphEvent(gd)
		if err != nil {
			t.Fatal(err)
		}
		return ev.GetGraphDef()
	}
	hparams := func() []byte {
		hp := HParams{Values: map[string]any{}, Metrics: []string{"test/acc"}}
		for i, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
			hp.Values[k] = float64(i)
		}
		vs, err := HParamsValues(hp, time.Unix(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, v := range vs {
			all = append(all, v.GetMetadata().GetPluginData().GetContent()...)
		}
		return all
	}
	for name, build := range map[string]func() []byte{"graph": graph, "hparams": hparams} {
		first := build()
		for i := range 50 {
			if got := build(); !bytes.Equal(got, first) {
				t.Fatalf("%s: build %d gave different bytes (%d vs %d)", name, i+1, len(got), len(first))
			}
		}
	}
}
