package ptfile

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tbtrain/tbtrain/internal/ptfixture"
)

// TestEncodeRoundTrip writes each fixture checkpoint again with Encode and
// reads it back: every value and every tensor bit must survive.
func TestEncodeRoundTrip(t *testing.T) {
	exp := ptfixture.Read(t, fixtures)
	for rel := range exp.Files {
		t.Run(rel, func(t *testing.T) {
			c, err := ReadCheckpoint(filepath.Join(fixtures, rel))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteCheckpoint(&buf, "LenetMnist", c); err != nil {
				t.Fatal(err)
			}
			v, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := CheckpointOf(v)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("round trip changed the checkpoint:\n got %+v\nwant %+v", got, c)
			}
		})
	}
}

// TestEncodeValues round-trips every kind of value the tree holds.
func TestEncodeValues(t *testing.T) {
	od := &Dict{Ordered: true}
	od.Set("w", &Tensor{DType: "float32", Shape: []int{2, 3}, Data: []float32{1, -2, float32(math.Inf(1)), 0, float32(math.Copysign(0, -1)), 3.5}})
	od.Set("empty", &Tensor{DType: "float32", Shape: []int{0, 4}, Data: []float32{}})
	od.Set("scalar", &Tensor{DType: "float32", Shape: []int{}, Data: []float32{7}})
	d := &Dict{}
	d.Set("state", od)
	d.Set(int64(3), []any{int64(0), int64(255), int64(256), int64(65536), int64(-1), int64(math.MaxInt64), int64(math.MinInt64)})
	d.Set("f", []any{0.1, math.Copysign(0, -1), math.Inf(-1), 1e-300})
	d.Set("b", []any{true, false, nil, "ünïcode", ""})
	var buf bytes.Buffer
	if err := Encode(&buf, "x", d); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("got %#v\nwant %#v", got, d)
	}
}

// TestEncodeAligned checks that every record's data starts at a multiple of
// 64 bytes, as PyTorch's own writer lays them out.
func TestEncodeAligned(t *testing.T) {
	var buf bytes.Buffer
	od := &Dict{Ordered: true}
	for i := range 5 {
		od.Set(string(rune('a'+i)), &Tensor{Shape: []int{i + 1}, Data: make([]float32, i+1)})
	}
	if err := Encode(&buf, "name-of-odd-length", od); err != nil {
		t.Fatal(err)
	}
	zr := mustZip(t, buf.Bytes())
	for _, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		if off%zipAlign != 0 {
			t.Errorf("%s: data at offset %d", f.Name, off)
		}
	}
}
