package tbwriter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/storage"
)

// Point is one value of a time series.
type Point struct {
	Step     int64
	WallTime float64
	Value    *tbpb.Summary_Value
}

// Run is a directory holding event files, read in file-name order.
type Run struct {
	// Name is the directory's path relative to the log directory, with '/'
	// separators; "." for the log directory itself (TensorBoard's naming).
	Name string
	// Files are the event files' paths, in the order they were read.
	Files []string
	// Events are all events decoded from Files, in order.
	Events []*tbpb.Event
	// Err is the first damage found (a *FileError with file and offset), or
	// nil. A file with damaged framing is read up to the damage and the
	// next file is read, as TensorBoard does; a record whose payload is not
	// an Event ([ErrNotEvent]) ends the whole run, as TensorBoard's Python
	// loader raises there.
	Err error
}

// PurgeRule selects which TensorBoard loader's rules Run.Series applies to
// data orphaned by a restart.
type PurgeRule int

const (
	// NoPurge keeps every point.
	NoPurge PurgeRule = iota
	// PythonPurge applies the rules of TensorBoard's Python
	// EventAccumulator (backend/event_processing/plugin_event_accumulator.py,
	// _MaybePurgeOrphanedData): while the run's latest file_version is >= 2,
	// the first SessionLog START is ignored and each later START at step s
	// drops the points at steps >= s of every tag; otherwise (no version, or
	// < 2) a summary event at a step below the last summary event's step
	// drops, for the tags it carries, the points at steps >= its step.
	PythonPurge
	// RustPurge applies the rule of TensorBoard's Rust data server
	// (data/server/reservoir.rs, "preemption"): SessionLog is ignored, and a
	// new point at step s drops the points of its tag at steps >= s.
	RustPurge
)

func (r PurgeRule) String() string {
	switch r {
	case NoPurge:
		return "NoPurge"
	case PythonPurge:
		return "PythonPurge"
	case RustPurge:
		return "RustPurge"
	}
	return "PurgeRule(" + strconv.Itoa(int(r)) + ")"
}

// ReadFile decodes the events of one event file. On damage it returns the
// events before it and a *FileError naming the file and the byte offset of
// the bad record; errors.Is tells the kind: io.ErrUnexpectedEOF (the file
// ends inside a record), ErrLengthCRC, ErrDataCRC or ErrNotEvent.
//
// path may be a URL of a registered store (s3://...).
func ReadFile(path string) ([]*tbpb.Event, error) {
	if storage.IsURL(path) {
		return readObject(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readEvents(f, path)
}

// ReadEvents decodes the events of an event stream read from r; name is used
// in errors.
func ReadEvents(r io.Reader, name string) ([]*tbpb.Event, error) {
	return readEvents(r, name)
}

func readEvents(r io.Reader, name string) ([]*tbpb.Event, error) {
	rr := NewRecordReader(r)
	var events []*tbpb.Event
	for {
		off := rr.Offset()
		p, err := rr.Next()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, &FileError{Path: name, Offset: off, Err: err}
		}
		ev := new(tbpb.Event)
		if err := proto.Unmarshal(p, ev); err != nil {
			return events, &FileError{Path: name, Offset: off, Err: fmt.Errorf("%w: %v", ErrNotEvent, err)}
		}
		events = append(events, ev)
	}
}

// IsEventFile reports whether name is an event file name by TensorBoard's
// rule (io_wrapper.IsSummaryEventsFile): its base name contains "tfevents".
func IsEventFile(name string) bool {
	return strings.Contains(filepath.Base(name), "tfevents")
}

// ReadLogdir reads every run under dir: each directory (dir itself
// included) that directly holds event files is a run. Symbolic links to
// directories and files are followed, as both TensorBoard loaders do (a
// link back to an ancestor directory is skipped); dangling links are
// ignored. Runs are sorted by name and each run's files by name. Damage
// inside files is reported in Run.Err; the error result is for a log
// directory that cannot be walked.
//
// dir may be a URL of a registered store (s3://bucket/prefix): then every
// prefix under it that directly holds event objects is a run.
func ReadLogdir(dir string) ([]*Run, error) {
	if storage.IsURL(dir) {
		return readLogdirStore(dir)
	}
	byDir := map[string][]string{}
	if err := walkLogdir(dir, byDir, nil); err != nil {
		return nil, fmt.Errorf("tbwriter: read logdir: %w", err)
	}
	var runs []*Run
	for runDir, files := range byDir {
		name, err := filepath.Rel(dir, runDir)
		if err != nil {
			return nil, fmt.Errorf("tbwriter: read logdir: %w", err)
		}
		sort.Strings(files)
		run := &Run{Name: filepath.ToSlash(name), Files: files}
		run.load()
		runs = append(runs, run)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Name < runs[j].Name })
	return runs, nil
}

// walkLogdir adds the event files under dir to byDir (keyed by the
// directory holding them), following symbolic links. ancestors are the
// directories on the path from the log directory to dir; a link to one of
// them would loop and is skipped.
func walkLogdir(dir string, byDir map[string][]string, ancestors []os.FileInfo) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	for _, a := range ancestors {
		if os.SameFile(a, fi) {
			return nil
		}
	}
	ancestors = append(ancestors, fi)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			target, err := os.Stat(path)
			if err != nil {
				continue // dangling link
			}
			typ = target.Mode().Type()
		}
		switch {
		case typ.IsDir():
			if err := walkLogdir(path, byDir, ancestors); err != nil {
				return err
			}
		case typ.IsRegular() && IsEventFile(e.Name()):
			byDir[dir] = append(byDir[dir], path)
		}
	}
	return nil
}

// load reads the run's files in order.
func (r *Run) load() {
	for _, path := range r.Files {
		events, err := ReadFile(path)
		r.Events = append(r.Events, events...)
		if err == nil {
			continue
		}
		if r.Err == nil {
			r.Err = err
		}
		if errors.Is(err, ErrNotEvent) {
			return
		}
	}
}

// parseFileVersion reads the number after "brain.Event:" as TensorBoard's
// event_util.ParseFileVersion does; an unparsable version is -1.
func parseFileVersion(s string) float64 {
	i := strings.LastIndex(s, "brain.Event:")
	if i >= 0 {
		s = s[i+len("brain.Event:"):]
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return -1
	}
	return f
}

// isPoint reports whether a summary value makes a point in TensorBoard:
// a value with data (after TensorBoard's data_compat migration every
// legacy kind becomes a tensor), or any value of an hparams-plugin series,
// which dataclass_compat gives a null tensor.
func isPoint(v *tbpb.Summary_Value, initialPlugin string) bool {
	if v.GetValue() != nil {
		if _, old := v.GetValue().(*tbpb.Summary_Value_ObsoleteOldStyleHistogram); !old {
			return true
		}
	}
	return initialPlugin == hparamsPluginName
}

// Series returns the run's time series, tag -> points in load order, after
// applying rule.
func (r *Run) Series(rule PurgeRule) map[string][]Point {
	out := map[string][]Point{}
	initialPlugin := map[string]string{}
	var (
		fileVersion    float64 // 0 = none seen (Python: None)
		seenStart      bool
		mostRecentStep int64 = -1 // plugin_event_accumulator initial most_recent_step
	)
	purge := func(tag string, step int64) {
		pts := out[tag]
		kept := pts[:0]
		for _, p := range pts {
			if p.Step < step {
				kept = append(kept, p)
			}
		}
		out[tag] = kept
	}
	for _, ev := range r.Events {
		summary := ev.GetSummary()
		hasSummary := summary != nil
		if rule == PythonPurge {
			if fv, ok := ev.GetWhat().(*tbpb.Event_FileVersion); ok {
				fileVersion = parseFileVersion(fv.FileVersion)
			}
			if fileVersion != 0 && fileVersion >= 2 {
				if ev.GetSessionLog().GetStatus() == tbpb.SessionLog_START {
					if !seenStart {
						seenStart = true
					} else {
						for tag := range out {
							purge(tag, ev.Step)
						}
					}
				}
			} else if hasSummary && ev.Step < mostRecentStep {
				for _, v := range summary.Value {
					if _, ok := out[v.Tag]; ok {
						purge(v.Tag, ev.Step)
					}
				}
			}
			if hasSummary {
				mostRecentStep = ev.Step
			}
		}
		if !hasSummary {
			continue
		}
		for _, v := range summary.Value {
			tag := v.Tag
			if tag == "" {
				tag = v.NodeName
			}
			plugin, seen := initialPlugin[tag]
			if !seen {
				plugin = v.GetMetadata().GetPluginData().GetPluginName()
				initialPlugin[tag] = plugin
			}
			if !isPoint(v, plugin) {
				continue
			}
			if rule == RustPurge {
				purge(tag, ev.Step)
			}
			out[tag] = append(out[tag], Point{Step: ev.Step, WallTime: ev.WallTime, Value: v})
		}
	}
	for tag, pts := range out {
		if len(pts) == 0 {
			delete(out, tag)
		}
	}
	return out
}

// PluginName returns the plugin that shows a series whose first value is v:
// the plugin named in its metadata or, for the legacy value kinds that
// TensorBoard's data_compat.py migrates, "scalars" (simple_value),
// "histograms" (histo), "images" (image) or "audio" (audio). "" if none.
func PluginName(v *tbpb.Summary_Value) string {
	if name := v.GetMetadata().GetPluginData().GetPluginName(); name != "" {
		return name
	}
	switch v.GetValue().(type) {
	case *tbpb.Summary_Value_SimpleValue:
		return scalarsPluginName
	case *tbpb.Summary_Value_Histo:
		return histogramsPluginName
	case *tbpb.Summary_Value_Image:
		return "images"
	case *tbpb.Summary_Value_Audio:
		return "audio"
	}
	return ""
}
