package ptfile

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestDecodeBad runs hand-made pickles through Decode: each must fail with
// the stated sentinel (and a forbidden global must be named), never build
// anything it should not.
func TestDecodeBad(t *testing.T) {
	persid := "(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK%dtQ"
	cases := []struct {
		name, pkl string
		want      error
		global    string
	}{
		// Names gopickle would resolve on its own, without the hook.
		{"builtins.list", "\x80\x02cbuiltins\nlist\n)R.", ErrForbidden, "builtins.list"},
		{"__builtin__.object", "\x80\x02c__builtin__\nobject\n.", ErrForbidden, "__builtin__.object"},
		{"array reconstructor", "\x80\x02carray\n_array_reconstructor\n.", ErrForbidden, "array._array_reconstructor"},
		{"torch module", "\x80\x02ctorch\nload\n.", ErrForbidden, "torch.load"},
		{"stack global", "\x80\x04\x93.", ErrUnsupported, ""},
		{"protocol 4", "\x80\x04}.", ErrUnsupported, ""},
		{"INST", "(iposix\nsystem\n.", ErrUnsupported, ""},
		{"no stop", "\x80\x02}", ErrCorrupt, ""},
		{"string past end", "\x80\x02X\xff\x00\x00\x00ab.", ErrCorrupt, ""},
		{"bad global line", "\x80\x02cposix system.", ErrCorrupt, ""},
		{"self-containing list", "\x80\x02]q\x00h\x00a.", ErrUnsupported, ""},
		{"stack underflow", "\x80\x02R.", ErrCorrupt, ""},
		{"storage too long", "\x80\x02" + strings.Replace(persid, "%d", "\x20", 1) + ".", ErrCorrupt, ""}, // 32 floats, record holds 16
		{"missing record", "\x80\x02" + strings.Replace(strings.Replace(persid, "%d", "\x10", 1), "X\x01\x00\x00\x000", "X\x01\x00\x00\x009", 1) + ".", ErrCorrupt, ""},
		{"tensor past storage", "\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + strings.Replace(persid, "%d", "\x10", 1) +
			"K\x08K\x10\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR.", ErrCorrupt, ""},
		{"broadcast stride", "\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + strings.Replace(persid, "%d", "\x10", 1) +
			"K\x00M\x00\x01\x85K\x00\x85\x89ccollections\nOrderedDict\n)RtR.", ErrCorrupt, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := archiveWith(t, []byte(c.pkl))
			_, err := Decode(bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var fe *ForbiddenError
			if c.global != "" && (!errors.As(err, &fe) || fe.Global() != c.global) {
				t.Errorf("err = %v, want it to name %s", err, c.global)
			}
		})
	}
}

// TestDecodeTensorView reads a tensor that is a strided view into a shared
// storage (a transposed 4x4 at offset 0, and a row at offset 8).
func TestDecodeTensorView(t *testing.T) {
	persid := "(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x10tQq\x01"
	pkl := "\x80\x02(ctorch._utils\n_rebuild_tensor_v2\n(" + persid + "K\x00K\x02K\x02\x86K\x01K\x04\x86\x89ccollections\nOrderedDict\n)RtR" +
		"ctorch._utils\n_rebuild_tensor\n(h\x01K\x08K\x03\x85K\x01\x85tRl."
	b := archiveWith(t, []byte(pkl))
	v, err := Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	a, r := l[0].(*Tensor), l[1].(*Tensor)
	if !slices.Equal(a.Data, []float32{0, 4, 1, 5}) || !slices.Equal(a.Shape, []int{2, 2}) ||
		!slices.Equal(r.Data, []float32{8, 9, 10}) || !slices.Equal(r.Shape, []int{3}) {
		t.Fatalf("got %+v %+v", a, r)
	}
}

// TestMatch lists every difference at once.
func TestMatch(t *testing.T) {
	got := []NamedTensor{
		{"a", &Tensor{DType: "float32", Shape: []int{2}, Data: []float32{1, 2}}},
		{"b", &Tensor{DType: "float64", Shape: []int{3}, Data: []float32{1, 2, 3}}},
		{"x", &Tensor{DType: "float32", Shape: []int{1}, Data: []float32{1}}},
		{"d", &Tensor{DType: "int64", Shape: []int{1}}},
		{"e", &Tensor{DType: "float32", Shape: []int{2}, Data: []float32{1}}},
	}
	want := []Spec{{"a", []int{2}}, {"b", []int{4}}, {"c", []int{1}}, {"d", []int{1}}, {"e", []int{2}}}
	_, err := Match(got, want)
	var me *MismatchError
	if !errors.As(err, &me) || !errors.Is(err, ErrLayout) {
		t.Fatalf("err = %v", err)
	}
	if len(me.Missing) != 1 || me.Missing[0] != "c" || len(me.Unexpected) != 1 || me.Unexpected[0] != "x" || len(me.Shape) != 3 ||
		!strings.Contains(me.Shape[1], "d: file int64, model float32") {
		t.Errorf("got %+v", me)
	}
	ts, err := Match(got[:2], []Spec{{"b", []int{3}}, {"a", []int{2}}})
	if err != nil || ts[0] != got[1].Tensor || ts[1] != got[0].Tensor {
		t.Errorf("Match in another order: %v", err)
	}
}

// TestHalfToFloat32 checks the binary16 conversion at its edges (values
// from IEEE 754-2008's binary16 parameters: bias 15, 10 fraction bits).
func TestHalfToFloat32(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125},
		{0x7bff, 65504},                 // largest finite
		{0x0400, 1.0 / (1 << 14)},       // smallest normal
		{0x0001, 1.0 / (1 << 24)},       // smallest subnormal
		{0x03ff, 1023.0 / (1 << 24)},    // largest subnormal
		{0x8001, -1.0 / (1 << 24)},      // negative subnormal
		{0x7c00, float32(math.Inf(1))},  // +Inf
		{0xfc00, float32(math.Inf(-1))}, // -Inf
	} {
		if got := halfToFloat32(c.h); got != c.want {
			t.Errorf("half %#04x = %v, want %v", c.h, got, c.want)
		}
	}
	if got := halfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("half 0x8000 = %v, want -0", got)
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("half 0x7e00 = %v, want NaN", got)
	}
	// The finite positive values are strictly increasing in their bits
	// (subnormals join the normals without a gap or an overlap), steps of
	// 2^-24 up to the first normal, and the sign bit only negates.
	prev := float32(-1)
	for h := uint16(0); h < 0x7c00; h++ {
		f := halfToFloat32(h)
		if f <= prev || (h <= 0x0400 && f != float32(h)/(1<<24)) {
			t.Fatalf("half %#04x = %v after %v", h, f, prev)
		}
		if halfToFloat32(h|0x8000) != -f {
			t.Fatalf("half %#04x is not the negation of %#04x", h|0x8000, h)
		}
		prev = f
	}
}
