//go:build purego

package kern

import "testing"

func TestImplPurego(t *testing.T) {
	if got := Impl(); got != "generic" {
		t.Errorf("Impl() = %q with -tags purego, want generic", got)
	}
	if got := Paths(); len(got) != 1 || got[0] != "generic" {
		t.Errorf("Paths() = %q with -tags purego, want [generic]", got)
	}
}
