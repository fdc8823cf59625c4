//go:build !purego

package kern

import "testing"

func init() {
	if hasAVX2FMA {
		testImpls = append(testImpls, implCase{"avx2", sgemmAVX2})
	}
}

func TestImplAVX2(t *testing.T) {
	want := "generic"
	if hasAVX2FMA {
		want = "avx2"
	}
	if got := Impl(); got != want {
		t.Errorf("Impl() = %q, want %q (cpu has AVX2+FMA: %v)", got, want, hasAVX2FMA)
	}
}
