package jsonfloat

import (
	"encoding/json"
	"math"
	"testing"
)

// TestMarshal: finite values are encoded as encoding/json encodes a float64
// (shortest form that reads back the same), NaN and the infinities as
// strings; each reads back as the same value.
func TestMarshal(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0.5, "0.5"}, {math.NaN(), `"NaN"`}, {math.Inf(1), `"Infinity"`}, {math.Inf(-1), `"-Infinity"`},
		{1795952040.648655, "1795952040.648655"}, {float64(float32(0.05)), "0.05000000074505806"},
	}
	for _, tc := range cases {
		b, err := json.Marshal(Float(tc.f))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("Float(%v) = %s, want %s", tc.f, b, tc.want)
		}
		var back Float
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("reading back %s: %v", b, err)
		}
		if !same(float64(back), tc.f) {
			t.Errorf("%s read back as %v, want %v", b, back, tc.f)
		}
	}
}

// TestUnmarshalRefuses: a string other than the three names, and what is
// not a number, is an error.
func TestUnmarshalRefuses(t *testing.T) {
	for _, in := range []string{`"nan"`, `"Inf"`, `"1"`, `true`, `{}`} {
		var f Float
		if err := json.Unmarshal([]byte(in), &f); err == nil {
			t.Errorf("%s read as %v, want an error", in, f)
		}
	}
}

// FuzzRoundTrip: whatever Float reads, it writes back so that it reads the
// same value again.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{`0.5`, `"NaN"`, `"Infinity"`, `"-Infinity"`, `-0`, `1e308`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Float
		if json.Unmarshal(b, &v) != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s read as %v, which does not encode: %v", b, v, err)
		}
		var back Float
		if err := json.Unmarshal(out, &back); err != nil || !same(float64(back), float64(v)) {
			t.Fatalf("%s -> %v -> %s -> %v, %v", b, v, out, back, err)
		}
	})
}

// same reports whether a and b are the same value, NaN being the same as NaN.
func same(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}
