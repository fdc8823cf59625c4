package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// record is one event of an input file: its payload exactly as read (the
// bytes tbmerge writes), its decoded form (to decide) and its byte offset.
type record struct {
	payload []byte
	ev      *tbpb.Event
	offset  int64
	// droppedBy is the index (in plan order) of the session whose first
	// step dropped this summary, or -1 when it is kept.
	droppedBy int
}

// session is one input event file.
type session struct {
	path      string
	records   []*record
	damage    error   // *tbwriter.FileError, or nil
	lost      int64   // bytes from the damage to the end of the file, not used
	firstWall float64 // wall time of the first event; +Inf if none
	// firstStep is where this session's values take over: its SessionLog
	// START before any summary, else its first summary's step. hasFirst is
	// false for a file without either (it cuts nothing).
	firstStep int64
	hasFirst  bool
	startLog  bool // firstStep comes from a SessionLog START
}

// readSession reads an event file up to its end or its first damage.
func readSession(path string) (*session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	s := &session{path: path, firstWall: math.Inf(1)}
	rr := tbwriter.NewRecordReader(f)
	for {
		off := rr.Offset()
		p, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.damage = &tbwriter.FileError{Path: path, Offset: off, Err: err}
			break
		}
		ev := new(tbpb.Event)
		if err := proto.Unmarshal(p, ev); err != nil {
			s.damage = &tbwriter.FileError{Path: path, Offset: off, Err: fmt.Errorf("%w: %v", tbwriter.ErrNotEvent, err)}
			break
		}
		r := &record{payload: append([]byte(nil), p...), ev: ev, offset: off, droppedBy: -1}
		if len(s.records) == 0 {
			s.firstWall = ev.GetWallTime()
		}
		if !s.hasFirst {
			switch {
			case ev.GetSessionLog().GetStatus() == tbpb.SessionLog_START:
				s.firstStep, s.hasFirst, s.startLog = ev.GetStep(), true, true
			case ev.GetSummary() != nil:
				s.firstStep, s.hasFirst = ev.GetStep(), true
			}
		}
		s.records = append(s.records, r)
	}
	if d, ok := s.damage.(*tbwriter.FileError); ok {
		s.lost = st.Size() - d.Offset
	}
	return s, nil
}

func isVersion(ev *tbpb.Event) bool {
	_, ok := ev.GetWhat().(*tbpb.Event_FileVersion)
	return ok
}

// mergePlan is the order of the sessions and what is kept of each.
type mergePlan struct {
	sessions []*session
	out      []*record // the records to write, in order
}

// plan orders the sessions (by first wall time when byTime, else as given;
// ties keep the given order) and applies the merge rule.
func plan(sessions []*session, byTime bool) *mergePlan {
	ordered := append([]*session(nil), sessions...)
	if byTime {
		sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].firstWall < ordered[j].firstWall })
	}
	p := &mergePlan{sessions: ordered}
	var kept []*record
	haveVersion := false
	for k, s := range ordered {
		if s.hasFirst {
			n := kept[:0]
			for _, r := range kept {
				if r.ev.GetSummary() != nil && r.ev.GetStep() >= s.firstStep {
					r.droppedBy = k
					continue
				}
				n = append(n, r)
			}
			kept = n
		}
		for _, r := range s.records {
			if isVersion(r.ev) {
				if haveVersion {
					continue // one file_version record, at the top
				}
				haveVersion = true
			}
			kept = append(kept, r)
		}
	}
	p.out = kept
	return p
}

// write prints the plan: per session, what it holds and which of its
// summaries are kept or replaced.
func (p *mergePlan) write(w io.Writer) {
	var b strings.Builder
	for k, s := range p.sessions {
		fmt.Fprintf(&b, "session %d  %s\n", k+1, s.path)
		first := "no events"
		if len(s.records) > 0 {
			first = fmt.Sprintf("first event at %s (wall time %.6f)", wallString(s.firstWall), s.firstWall)
		}
		from := "no summaries: replaces nothing"
		if s.hasFirst {
			how := "first summary"
			if s.startLog {
				how = "SessionLog START"
			}
			from = fmt.Sprintf("takes over from step %d (%s)", s.firstStep, how)
		}
		fmt.Fprintf(&b, "  %s; %s\n", first, from)
		kept, dropped := summarySteps(s.records, func(r *record) bool { return r.droppedBy < 0 })
		fmt.Fprintf(&b, "  keeps %s\n", kept)
		if dropped.n > 0 {
			by := map[int]bool{}
			for _, r := range s.records {
				if r.droppedBy >= 0 {
					by[r.droppedBy] = true
				}
			}
			var names []string
			for k := range by {
				names = append(names, fmt.Sprintf("session %d", k+1))
			}
			sort.Strings(names)
			fmt.Fprintf(&b, "  drops %s: replaced by %s\n", dropped, strings.Join(names, ", "))
		}
		if s.damage != nil {
			fmt.Fprintf(&b, "  damaged: %v (the %d records before it used, the last %d bytes not)\n", s.damage, len(s.records), s.lost)
		}
	}
	all, _ := summarySteps(p.out, func(*record) bool { return true })
	fmt.Fprintf(&b, "merged: %d records, %s\n", len(p.out), all)
	io.WriteString(w, b.String())
}

// stepSet summarises the summary events of a selection.
type stepSet struct {
	n        int
	min, max int64
}

func (s stepSet) String() string {
	if s.n == 0 {
		return "no summary events"
	}
	return fmt.Sprintf("%d summary events, steps %d..%d", s.n, s.min, s.max)
}

func summarySteps(rs []*record, in func(*record) bool) (yes, no stepSet) {
	add := func(s *stepSet, step int64) {
		if s.n == 0 || step < s.min {
			s.min = step
		}
		if s.n == 0 || step > s.max {
			s.max = step
		}
		s.n++
	}
	for _, r := range rs {
		if r.ev.GetSummary() == nil {
			continue
		}
		if in(r) {
			add(&yes, r.ev.GetStep())
		} else {
			add(&no, r.ev.GetStep())
		}
	}
	return yes, no
}

func wallString(w float64) string {
	if math.IsInf(w, 0) || math.IsNaN(w) {
		return "?"
	}
	sec, frac := math.Modf(w)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format("2006-01-02 15:04:05.000 UTC")
}

// commit writes the merged event file into a temporary directory beside
// out, syncs it and renames the directory to out. It returns the file's
// path.
func (p *mergePlan) commit(out string) (path string, err error) {
	parent, base := filepath.Dir(out), filepath.Base(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	secs := int64(0)
	if len(p.sessions) > 0 && !math.IsInf(p.sessions[0].firstWall, 0) {
		secs = int64(p.sessions[0].firstWall)
	}
	// The name TensorBoard recognises (it contains "tfevents"); the host
	// field says who wrote it.
	name := fmt.Sprintf("events.out.tfevents.%010d.tbmerge.0", secs)
	f, err := os.OpenFile(filepath.Join(tmp, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	rw := tbwriter.NewRecordWriter(bw)
	for _, r := range p.out {
		if err := rw.WriteRecord(r.payload); err != nil {
			f.Close()
			return "", err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := syncDir(tmp); err != nil {
		return "", err
	}
	// Rename does not replace a directory that appeared meanwhile: on
	// Linux it fails with ENOTEMPTY or EEXIST for a non-empty one; an
	// empty one would be replaced, so check again first.
	if _, err := os.Lstat(out); err == nil {
		return "", fmt.Errorf("%s appeared while merging; not replacing it", out)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	if err := syncDir(parent); err != nil {
		return filepath.Join(out, name), err
	}
	return filepath.Join(out, name), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
