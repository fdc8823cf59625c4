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

// FuzzParseLease: any lease object (read from a shared store, so from
// anyone) parses without panicking or is refused, and what a lease writes
// reads back.
func FuzzParseLease(f *testing.F) {
	f.Add(leaseHeader + "\nholder host box pid 42\ntoken 00ff\nexpires 1796254292000000000\n")
	f.Add("")
	f.Add(leaseHeader + "\n\n\n\n")
	f.Add(leaseHeader + "\nholder x\ntoken y\nexpires 99999999999999999999\n")
	f.Fuzz(func(t *testing.T, s string) {
		who, token, expires, err := parseLease([]byte(s))
		if err != nil {
			if who != "" || token != "" || !expires.IsZero() {
				t.Errorf("parseLease(%q) failed (%v) but returned %q %q %v", s, err, who, token, expires)
			}
			return
		}
		if containsNewline(who) || containsNewline(token) {
			t.Fatalf("parseLease(%q) returned a field with a newline: %q %q", s, who, token)
		}
		again := fmt.Sprintf("%s\nholder %s\ntoken %s\nexpires %d\n", leaseHeader, who, token, expires.UnixNano())
		w2, t2, e2, err := parseLease([]byte(again))
		if err != nil || w2 != who || t2 != token || !e2.Equal(expires) {
			t.Errorf("round trip of %q %q %v: %q %q %v, %v", who, token, expires, w2, t2, e2, err)
		}
	})
}
