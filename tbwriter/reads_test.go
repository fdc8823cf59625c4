package tbwriter

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/internal/tbview"
	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// readsFixtures holds event files and what TensorBoard's Python loader
// serves for them (testdata/tensorboard-reads/README.md).
const readsFixtures = "../testdata/tensorboard-reads"

func readsRuns(t *testing.T) map[string]*Run {
	t.Helper()
	runs, err := ReadLogdir(readsFixtures)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*Run{}
	for _, r := range runs {
		m[r.Name] = r
	}
	return m
}

// TestReadsAgreeWithTensorBoard compares Series(PythonPurge) and
// Listed(PythonPurge) with what TensorBoard's Python loader served for the
// same files: the runs it lists (a directory holding only a
// *.profile-empty file included), the tags it shows (none from a
// *.profile-empty file), the number of points of every tag it serves
// unsampled, and the hparams content it shows (the first value of each
// hparams tag, even after a restart purged that value's step).
func TestReadsAgreeWithTensorBoard(t *testing.T) {
	view := tbview.ReadReads(t, readsFixtures)
	runs := readsRuns(t)
	var listed []string
	for name, r := range runs {
		if r.Listed(PythonPurge) {
			listed = append(listed, name)
		}
	}
	sort.Strings(listed)
	want := append([]string(nil), view.Runs...)
	sort.Strings(want)
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Errorf("listed runs differ (-tensorboard +ours):\n%s", diff)
	}
	for name, run := range runs {
		s := run.Series(PythonPurge)
		tags := view.Tags[name]
		for tag := range s {
			if _, ok := tags[tag]; !ok && view.HParams[name][tag].Status == "" && view.HParams[name][tag].HParams == nil && !isHParamsTag(tag) {
				t.Errorf("%s: tag %q in our series, not shown by TensorBoard", name, tag)
			}
		}
		for tag, byPlugin := range tags {
			for plugin, raw := range byPlugin {
				var n int
				if json.Unmarshal(raw, &n) != nil {
					continue // a failing route: see cmd/tbdump's mixed kinds
				}
				if name == "sampled" {
					continue // sampled by TensorBoard: see cmd/tbdump's SHOWN
				}
				if got := len(s[tag]); got != n {
					t.Errorf("%s %s (%s): %d points, TensorBoard served %d", name, tag, plugin, got, n)
				}
			}
		}
		for tag, hv := range view.HParams[name] {
			pts := s[tag]
			if len(pts) != 1 {
				t.Errorf("%s %s: %d points, want the one TensorBoard shows", name, tag, len(pts))
				continue
			}
			d, _ := HParamsOf(pts[0].Value)
			if hv.Status != "" && d.GetSessionEndInfo().GetStatus().String() != hv.Status {
				t.Errorf("%s %s: status %v, TensorBoard shows %s", name, tag, d.GetSessionEndInfo().GetStatus(), hv.Status)
			}
			for k, v := range hv.HParams {
				if got := d.GetSessionStartInfo().GetHparams()[k].GetNumberValue(); got != v {
					t.Errorf("%s %s: %s = %v, TensorBoard shows %v", name, tag, k, got, v)
				}
			}
		}
	}
}

func isHParamsTag(tag string) bool {
	return tag == HParamsExperimentTag || tag == HParamsSessionStartTag || tag == HParamsSessionEndTag
}

// TestSeriesHParamsFirstValue: both loaders keep the metadata of a tag's
// first value for good, and the hparams plugin shows only that metadata.
// In hparams_resumed, session 1 ends RUNNING at step 9 and session 2
// (resumed at 5) writes a second session start and ends SUCCESS at 14:
// TensorBoard shows lr 0.1 and RUNNING under both rules; NoPurge keeps
// every value as written.
func TestSeriesHParamsFirstValue(t *testing.T) {
	run := readsRuns(t)["hparams_resumed"]
	if run == nil {
		t.Fatal("no run hparams_resumed")
	}
	for _, rule := range []PurgeRule{PythonPurge, RustPurge} {
		s, dropped := run.SeriesDropped(rule)
		end := s[HParamsSessionEndTag]
		if len(end) != 1 || end[0].Step != 9 {
			t.Fatalf("%v: session end points at %v, want the first one at 9", rule, steps(end))
		}
		if d, _ := HParamsOf(end[0].Value); d.GetSessionEndInfo().GetStatus() != tbpb.Status_STATUS_RUNNING {
			t.Errorf("%v: session end %v, want the first one, RUNNING", rule, d)
		}
		start := s[HParamsSessionStartTag]
		if d, _ := HParamsOf(start[0].Value); len(start) != 1 || d.GetSessionStartInfo().GetHparams()["lr"].GetNumberValue() != 0.1 {
			t.Errorf("%v: session start %v, want the first one (lr 0.1)", rule, start)
		}
		var hpDropped []int64
		for _, p := range dropped {
			if isHParamsTag(p.Value.GetTag()) {
				hpDropped = append(hpDropped, p.Step)
			}
		}
		if diff := cmp.Diff([]int64{5, 14}, hpDropped); diff != "" {
			t.Errorf("%v: dropped hparams values at steps (-want +got):\n%s", rule, diff)
		}
	}
	if n := len(run.Series(NoPurge)[HParamsSessionEndTag]); n != 2 {
		t.Errorf("NoPurge: %d session ends, want both as written", n)
	}
}

// TestSeriesProfileEmpty: the Python loader never reads a *.profile-empty
// file (but lists its directory as a run); the Rust data server reads it
// like any event file.
func TestSeriesProfileEmpty(t *testing.T) {
	runs := readsRuns(t)
	for _, name := range []string{"profile_only", "profile_beside"} {
		run := runs[name]
		if run == nil {
			t.Fatalf("no run %s", name)
		}
		if _, ok := run.Series(PythonPurge)["prof"]; ok {
			t.Errorf("%s: PythonPurge has the tag of the *.profile-empty file", name)
		}
		if n := len(run.Series(RustPurge)["prof"]); n != 1 {
			t.Errorf("%s: RustPurge has %d points of prof, want 1", name, n)
		}
		if !run.Listed(PythonPurge) || !run.Listed(RustPurge) {
			t.Errorf("%s: listed by python %v, rust %v; want both", name, run.Listed(PythonPurge), run.Listed(RustPurge))
		}
	}
	if !IsProfileEmpty("events.out.tfevents.1.h.profile-empty") || IsProfileEmpty("x.profile-empty") || IsProfileEmpty("events.out.tfevents.1.h.0") {
		t.Error("IsProfileEmpty disagrees with io_wrapper.IsSummaryEventsFile")
	}
}

// writeRecords writes an event file of the given events (nil: a record
// that is not an Event) into dir.
func writeRecords(t *testing.T, dir, name string, events ...*tbpb.Event) {
	t.Helper()
	var buf []byte
	for _, e := range events {
		p := []byte{0xff, 0xff, 0xff} // not a valid protocol buffer
		if e != nil {
			var err error
			if p, err = proto.Marshal(e); err != nil {
				t.Fatal(err)
			}
		}
		buf = AppendRecord(buf, p)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func scalarEvent(wall float64, step int64, tag string) *tbpb.Event {
	return &tbpb.Event{WallTime: wall, Step: step, What: &tbpb.Event_Summary{Summary: &tbpb.Summary{Value: []*tbpb.Summary_Value{ScalarValue(tag, 1)}}}}
}

// TestSeriesLoaderFileRules: the Python loader stops the whole run at a
// record that is not an Event; the Rust data server drops only the rest of
// that file, and ignores events whose wall time is not finite (and lists a
// run only once it has read an event with a finite wall time).
func TestSeriesLoaderFileRules(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, filepath.Join(dir, "a"), "events.out.tfevents.1.h.1.0",
		scalarEvent(1, 1, "x"), nil, scalarEvent(3, 3, "x"))
	writeRecords(t, filepath.Join(dir, "a"), "events.out.tfevents.2.h.1.0",
		scalarEvent(4, 4, "x"), scalarEvent(math.NaN(), 5, "x"), scalarEvent(math.Inf(1), 6, "y"))
	writeRecords(t, filepath.Join(dir, "b"), "events.out.tfevents.1.h.1.0",
		scalarEvent(math.NaN(), 1, "z"))
	runs := readsRunsIn(t, dir)
	a := runs["a"]
	if !errors.Is(a.Err, ErrNotEvent) {
		t.Fatalf("run a: Err = %v, want ErrNotEvent", a.Err)
	}
	for _, tc := range []struct {
		rule PurgeRule
		x    []int64
		y    int
	}{
		{NoPurge, []int64{1}, 0},
		{PythonPurge, []int64{1}, 0},
		{RustPurge, []int64{1, 4}, 0},
	} {
		s := a.Series(tc.rule)
		if diff := cmp.Diff(tc.x, steps(s["x"])); diff != "" {
			t.Errorf("%v: steps of x (-want +got):\n%s", tc.rule, diff)
		}
		if len(s["y"]) != tc.y {
			t.Errorf("%v: %d points of y, want %d", tc.rule, len(s["y"]), tc.y)
		}
	}
	b := runs["b"]
	if !b.Listed(PythonPurge) || b.Listed(RustPurge) {
		t.Errorf("run b (only a NaN wall time): listed by python %v, rust %v; want true, false", b.Listed(PythonPurge), b.Listed(RustPurge))
	}
	if n := len(b.Series(PythonPurge)["z"]); n != 1 {
		t.Errorf("run b: PythonPurge has %d points of z, want 1", n)
	}
}

func readsRunsIn(t *testing.T, dir string) map[string]*Run {
	t.Helper()
	runs, err := ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*Run{}
	for _, r := range runs {
		m[r.Name] = r
		// Every file is read once, and Events are EventFiles' own values.
		if len(r.EventFiles) != len(r.Files) {
			t.Fatalf("run %s: %d EventFiles for %d Files", r.Name, len(r.EventFiles), len(r.Files))
		}
		if len(r.Events) > 0 && r.Events[0] != r.EventFiles[0].Events[0] {
			t.Errorf("run %s: Events are not the EventFiles' events", r.Name)
		}
	}
	return m
}

// zeros is an endless stream of zero bytes (as /dev/zero), up to limit,
// counting what was read.
type zeros struct{ n, limit int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n >= z.limit {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.limit-z.n))
	clear(p[:k])
	z.n += int64(k)
	return k, nil
}

// TestReadEventStreamStopsAtDamage: a stream is decoded as it is read and
// reading stops at the first damage, so `head -c 4000000000 /dev/zero` is
// refused at its first record (zero length, wrong CRC) after a few bytes.
func TestReadEventStreamStopsAtDamage(t *testing.T) {
	z := &zeros{limit: 1 << 30}
	ef := ReadEventStream(z, "zeros")
	if !errors.Is(ef.Err, ErrLengthCRC) || len(ef.Events) != 0 {
		t.Fatalf("ReadEventStream(zeros) = %d events, %v; want ErrLengthCRC", len(ef.Events), ef.Err)
	}
	if z.n > 64<<10 {
		t.Errorf("read %d bytes of a stream damaged at byte 0", z.n)
	}
	// Offsets are recorded as events are read.
	var buf []byte
	buf = AppendRecord(buf, mustMarshal(t, scalarEvent(1, 1, "a")))
	second := int64(len(buf))
	buf = AppendRecord(buf, mustMarshal(t, scalarEvent(2, 2, "a")))
	ef = ReadEventStream(io.MultiReader(bytesReader(buf)), "s")
	if ef.Err != nil || len(ef.Events) != 2 || !cmp.Equal(ef.Offsets, []int64{0, second}) {
		t.Errorf("ReadEventStream = %d events at %v, %v; want 2 at [0 %d]", len(ef.Events), ef.Offsets, ef.Err, second)
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type byteStream struct{ b []byte }

func (s *byteStream) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

func bytesReader(b []byte) io.Reader { return &byteStream{b} }
