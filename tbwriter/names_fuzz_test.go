package tbwriter

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzEventFileName: whatever the newest event file name in a run is (ours,
// another writer's, a damaged one), the name a new session gets sorts after
// it, is an event file name by TensorBoard's rule, and so are the names of
// the session's objects on a store, which sort after it in sequence order.
// TensorBoard reads a run's files in name order, so this is what keeps one
// stream across sessions. eventFileName parses the seconds groups out of the
// old name (secondsGroups), hence a fuzz test.
func FuzzEventFileName(f *testing.F) {
	for _, last := range []string{
		"",
		"events.out.tfevents.1700000000.host.42.0",
		"events.out.tfevents.1700000000.host.42.0.000000007",
		"events.out.tfevents.9999999999.host.1.0",
		"events.out.tfevents.9999999999.h.1.0.tfevents.9999999999.x",
		"foo.tfevents.1",
		"events.out.tfevents.17000000000.host",
		"tfevents.1700000000",
	} {
		f.Add(last, int64(1_700_000_000), "host", 42, int64(0))
	}
	f.Fuzz(func(t *testing.T, last string, secs int64, host string, pid int, counter int64) {
		secs = max(0, secs%10_000_000_000) // 10-digit Unix seconds, as time.Now gives until 2286
		if strings.ContainsAny(host, "/\x00") {
			return // a host name has neither
		}
		if last != "" && !IsEventFile(last) || strings.ContainsAny(last, "/\x00") {
			return // the writers pass the newest event file's base name, or ""
		}
		name := eventFileName(last, secs, host, pid, counter)
		if name <= last {
			t.Fatalf("eventFileName(%q, %d, ...) = %q does not sort after it", last, secs, name)
		}
		if !IsEventFile(name) {
			t.Fatalf("eventFileName(%q, ...) = %q is not an event file name", last, name)
		}
		o := &objectFile{base: name}
		prev := last
		for _, seq := range []int{0, 1, 9, 10, 999_999_999} {
			obj := o.name(seq)
			if obj <= prev || !IsEventFile(obj) {
				t.Fatalf("object %d %q does not sort after %q", seq, obj, prev)
			}
			prev = obj
		}
		if got, want := o.name(7), fmt.Sprintf("%s.%09d", name, 7); got != want {
			t.Fatalf("object name %q, want %q", got, want)
		}
	})
}
