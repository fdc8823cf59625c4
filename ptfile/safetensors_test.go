package ptfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSafetensorsLayout checks the bytes of a small file against the format
// (safetensors README): length prefix, JSON header padded with spaces to 8
// bytes, then the tensors little-endian in the order given.
func TestSafetensorsLayout(t *testing.T) {
	var buf bytes.Buffer
	err := WriteSafetensors(&buf, []NamedTensor{
		{"b", &Tensor{Shape: []int{1}, Data: []float32{1}}},     // 0x3f800000
		{"a", &Tensor{Shape: []int{1, 1}, Data: []float32{-2}}}, // 0xc0000000
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	hdr := string(b[8 : 8+n])
	want := `{"a":{"dtype":"F32","shape":[1,1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	for len(want)%8 != 0 {
		want += " "
	}
	if hdr != want {
		t.Errorf("header %q\nwant   %q", hdr, want)
	}
	if got := b[8+n:]; !bytes.Equal(got, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}) {
		t.Errorf("data % x", got)
	}
}

// TestSafetensorsRoundTrip writes a real state_dict and reads it back bit for
// bit, in state_dict order.
func TestSafetensorsRoundTrip(t *testing.T) {
	c, err := ReadCheckpoint(filepath.Join(fixtures, "run", "LenetMnist2.pt"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	meta := map[string]string{"format": "pt", "epoch": "2"}
	if err := WriteSafetensors(&buf, c.Model, meta); err != nil {
		t.Fatal(err)
	}
	if (8+binary.LittleEndian.Uint64(buf.Bytes()))%8 != 0 {
		t.Error("tensor data not 8-byte aligned")
	}
	got, gotMeta, err := ReadSafetensors(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c.Model) || !reflect.DeepEqual(gotMeta, meta) {
		t.Error("round trip changed the tensors or the metadata")
	}
}

// TestReadSafetensorsBad covers the format's rules, one broken file each.
func TestReadSafetensorsBad(t *testing.T) {
	file := func(hdr string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
		return append(append(b, hdr...), make([]byte, data)...)
	}
	cases := map[string][]byte{
		"short":        {1, 2, 3},
		"huge header":  binary.LittleEndian.AppendUint64(nil, 1<<40),
		"not json":     file("{x", 0),
		"not object":   file("[]", 0),
		"hole":         file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"overlap":      file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"past end":     file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8),
		"shape size":   file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8),
		"trailing":     file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8),
		"dtype":        file(`{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, 4),
		"duplicate":    file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4),
		"bad metadata": file(`{"__metadata__":{"x":1}}`, 0),
		"junk after":   file(`{} x`, 0),
	}
	for name, b := range cases {
		if _, _, err := ReadSafetensors(b); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotTorchFile) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
