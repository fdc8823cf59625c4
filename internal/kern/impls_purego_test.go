//go:build purego

package kern

import "testing"

func TestImplPurego(t *testing.T) {
	if got := Impl(); got != "generic" {
		t.Errorf("Impl() = %q with -tags purego, want generic", got)
	}
}
