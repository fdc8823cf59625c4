package kern

import "testing"

// forPaths runs f as a subtest on every code path that can run here, with
// that path active (SetPath), and restores the default afterwards. Tests
// that use it must not run in parallel with other tests of this package.
func forPaths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer SetPath("")
	for _, name := range Paths() {
		t.Run(name, func(t *testing.T) {
			if err := SetPath(name); err != nil {
				t.Fatal(err)
			}
			f(t)
		})
	}
}

// onEveryPath calls f once per code path that can run here, with that path
// active, naming the path if f fails (for fuzz targets, which cannot have
// subtests).
func onEveryPath(t *testing.T, f func()) {
	t.Helper()
	defer SetPath("")
	for _, name := range Paths() {
		if err := SetPath(name); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if t.Failed() {
					t.Logf("(on code path %s)", name)
				}
			}()
			f()
		}()
		if t.Failed() {
			return
		}
	}
}
