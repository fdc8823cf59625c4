package trainer

import (
	"fmt"
	"testing"
)

// FuzzParseLock: any lock file content parses without panicking, and what
// lockDir writes reads back.
func FuzzParseLock(f *testing.F) {
	f.Add(lockHeader + "\npid 4242\nhost box\n")
	f.Add("")
	f.Add(lockHeader + "\npid -1\npid 99999999999999999999\n")
	f.Fuzz(func(t *testing.T, s string) {
		pid, host := parseLock(s)
		if pid <= 0 || host == "" {
			return
		}
		if p2, h2 := parseLock(fmt.Sprintf("%s\npid %d\nhost %s\n", lockHeader, pid, host)); p2 != pid || (h2 != host && !containsNewline(host)) {
			t.Errorf("round trip of pid %d host %q: %d %q", pid, host, p2, h2)
		}
	})
}

func containsNewline(s string) bool {
	for _, r := range s {
		if r == '\n' {
			return true
		}
	}
	return false
}
