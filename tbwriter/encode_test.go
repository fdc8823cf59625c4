package tbwriter

import (
	"io"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

func TestAppendScalarEvent(t *testing.T) {
	tests := []struct {
		wall float64
		step int64
		tag  string
		v    float32
	}{
		{1795952040.6492717, 0, "loss", 1},
		{1795952040.5, 1, "acc/train", 0},
		{0, 1 << 40, "", float32(math.NaN())},
		{1.5, -3, "neg", float32(math.Inf(1))},
		{2.5, 7, strings.Repeat("long/", 60), float32(math.Inf(-1))},
		{3.5, math.MaxInt64, "max", -math.MaxFloat32},
	}
	for _, tt := range tests {
		got := new(tbpb.Event)
		if err := proto.Unmarshal(appendScalarEvent(nil, tt.wall, tt.step, tt.tag, tt.v), got); err != nil {
			t.Fatalf("%+v: our bytes do not unmarshal: %v", tt, err)
		}
		want := &tbpb.Event{
			WallTime: tt.wall,
			Step:     tt.step,
			What:     &tbpb.Event_Summary{Summary: &tbpb.Summary{Value: []*tbpb.Summary_Value{ScalarValue(tt.tag, tt.v)}}},
		}
		// protocmp compares float32 NaN payloads bit-exactly? It uses
		// ==, so compare the value's bits separately and blank it.
		gv, wv := got.GetSummary().GetValue()[0].GetSimpleValue(), tt.v
		if math.Float32bits(gv) != math.Float32bits(wv) {
			t.Errorf("%+v: simple_value bits %#x, want %#x", tt, math.Float32bits(gv), math.Float32bits(wv))
		}
		got.GetSummary().GetValue()[0].Value = &tbpb.Summary_Value_SimpleValue{}
		want.GetSummary().GetValue()[0].Value = &tbpb.Summary_Value_SimpleValue{}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%+v: decoded event differs (-want +got):\n%s", tt, diff)
		}
		// Same size as the library's encoder.
		if n, m := len(appendScalarEvent(nil, tt.wall, tt.step, tt.tag, tt.v)), proto.Size(want); n != m {
			t.Errorf("%+v: encoded %d bytes, proto.Size %d", tt, n, m)
		}
	}
}

func TestScalarEncodeAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(1000, func() {
		buf = appendScalarRecord(buf[:0], 1795952040.5, 12345, "train/loss", 0.25, nil)
	})
	if n != 0 {
		t.Errorf("appendScalarRecord allocates %v times per call, want 0", n)
	}
	// The framed record reads back.
	p, err := NewRecordReader(strings.NewReader(string(buf))).Next()
	if err != nil {
		t.Fatal(err)
	}
	ev := new(tbpb.Event)
	if err := proto.Unmarshal(p, ev); err != nil {
		t.Fatal(err)
	}
	if ev.Step != 12345 || ev.GetSummary().GetValue()[0].GetSimpleValue() != 0.25 {
		t.Errorf("decoded %v", ev)
	}
}

func TestAddScalarAllocs(t *testing.T) {
	w, err := NewWriter(io.Discard, Options{QueueSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var step int64
	n := testing.AllocsPerRun(10000, func() {
		step++
		if err := w.AddScalar("train/loss", step, 0.5); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("AddScalar allocates %v times per call, want 0", n)
	}
}

// TestHeaderCache encodes records of changing lengths through one cache and
// checks every length CRC with the reader.
func TestHeaderCache(t *testing.T) {
	var hc headerCache
	var buf []byte
	tags := []string{"a", "a", "bb", "a", strings.Repeat("c", 200), "bb", "bb"}
	for i, tag := range tags {
		buf = appendScalarRecord(buf, 1, int64(i), tag, 1, &hc)
	}
	rr := NewRecordReader(strings.NewReader(string(buf)))
	for i := range tags {
		if _, err := rr.Next(); err != nil {
			t.Fatalf("record %d (%q): %v", i, tags[i], err)
		}
	}
	if _, err := rr.Next(); err != io.EOF {
		t.Errorf("after %d records: %v, want io.EOF", len(tags), err)
	}
}
