package tbwriter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
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
	// EventFiles are Files as read, each file once and on its own, in the
	// same order (nil for a Run built by hand: Series then uses Events).
	EventFiles []*EventFile
	// Events are all events decoded from Files, in order: the events of
	// EventFiles up to the file whose damage ends the run (see Err). They
	// are the same *tbpb.Event values as in EventFiles.
	Events []*tbpb.Event
	// Err is the first damage found (a *FileError with file and offset), or
	// nil. A file with damaged framing is read up to the damage and the
	// next file is read, as TensorBoard does; a record whose payload is not
	// an Event ([ErrNotEvent]) ends the whole run, as TensorBoard's Python
	// loader raises there (its Rust data server only drops that file;
	// Series follows each loader).
	Err error
}

// EventFile is one event file read on its own.
type EventFile struct {
	// Path is the file's path (for a stream, the name given).
	Path string
	// Events are the events decoded, in order, up to the damage if any.
	Events []*tbpb.Event
	// Offsets[i] is the byte offset of the record holding Events[i].
	Offsets []int64
	// Err is the damage that ended the file (a *FileError, see ReadFile),
	// an error opening it, or nil.
	Err error
}

// IsProfileEmpty reports whether name is a "*.profile-empty" event file:
// the empty event file TensorFlow's profiler leaves so that TensorBoard
// lists its directory as a run. TensorBoard's Python loader lists such a
// run but never reads the file (io_wrapper.IsSummaryEventsFile, used by
// plugin_event_accumulator's loaders; IsTensorFlowEventsFile, used to find
// runs, accepts it). Its Rust data server has no such rule and reads it like
// any event file (data/server/disk_logdir.rs: every name containing
// "tfevents").
func IsProfileEmpty(name string) bool {
	return IsEventFile(name) && strings.HasSuffix(name, ".profile-empty")
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
// ends inside a record), ErrLengthCRC, ErrDataCRC, ErrRecordTooLarge or
// ErrNotEvent.
//
// path may be a URL of a registered store (s3://...).
func ReadFile(path string) ([]*tbpb.Event, error) {
	f := ReadEventFile(path)
	return f.Events, f.Err
}

// ReadEvents decodes the events of an event stream read from r; name is used
// in errors.
func ReadEvents(r io.Reader, name string) ([]*tbpb.Event, error) {
	f := ReadEventStream(r, name)
	return f.Events, f.Err
}

// ReadEventFile reads one event file as ReadFile does, also recording the
// byte offset of every event. path may be a URL of a registered store.
func ReadEventFile(path string) *EventFile {
	if storage.IsURL(path) {
		return readObject(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return &EventFile{Path: path, Err: err}
	}
	defer f.Close()
	return ReadEventStream(f, path)
}

// ReadEventStream reads an event stream from r as ReadEvents does, also
// recording the byte offset of every event; name is the result's Path and
// is used in errors. It reads r as it decodes, and stops reading at the
// first damage: memory is bounded by the events before it plus one record
// of at most MaxRecordSize bytes, which must also be present in r (see
// RecordReader).
func ReadEventStream(r io.Reader, name string) *EventFile {
	rr := NewRecordReader(r)
	ef := &EventFile{Path: name}
	for {
		off := rr.Offset()
		p, err := rr.Next()
		if err == io.EOF {
			return ef
		}
		if err != nil {
			ef.Err = &FileError{Path: name, Offset: off, Err: err}
			return ef
		}
		ev := new(tbpb.Event)
		if err := proto.Unmarshal(p, ev); err != nil {
			ef.Err = &FileError{Path: name, Offset: off, Err: fmt.Errorf("%w: %v", ErrNotEvent, err)}
			return ef
		}
		ef.Events = append(ef.Events, ev)
		ef.Offsets = append(ef.Offsets, off)
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
// ignored. Runs are sorted by name and each run's files by name; every file
// is read once (Run.EventFiles). Damage inside files is reported in Run.Err;
// the error result is for a log directory that cannot be walked.
//
// dir may be a URL of a registered store (s3://bucket/prefix): then every
// prefix under it that directly holds event objects is a run.
func ReadLogdir(dir string) ([]*Run, error) {
	return ReadLogdirContext(context.Background(), dir)
}

// ReadLogdirContext is ReadLogdir, stopping with ctx.Err() between files
// once ctx is done.
func ReadLogdirContext(ctx context.Context, dir string) ([]*Run, error) {
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
		runs = append(runs, &Run{Name: filepath.ToSlash(name), Files: files})
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Name < runs[j].Name })
	for _, run := range runs {
		efs := make([]*EventFile, 0, len(run.Files))
		for _, path := range run.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			efs = append(efs, ReadEventFile(path))
		}
		*run = *NewRun(run.Name, efs)
	}
	return runs, nil
}

// ReadRun reads the run in dir alone: the event files directly in dir,
// read as ReadLogdir reads its run "." (links followed, name order, damage
// in Run.Err), and nothing below dir: the directories under it (other
// runs, as ReadLogdir would list them) are neither walked nor read. The
// error result is for a directory that cannot be listed. dir may be a URL
// of a registered store.
func ReadRun(dir string) (*Run, error) {
	var run *Run
	if storage.IsURL(dir) {
		st, key, err := storage.For(dir)
		if err != nil {
			return nil, fmt.Errorf("tbwriter: read run: %w", err)
		}
		files, _, err := listStore(st, key)
		if err != nil {
			return nil, fmt.Errorf("tbwriter: read run: %w", err)
		}
		run = &Run{Name: ".", Files: files}
	} else {
		files, _, err := listDir(dir)
		if err != nil {
			return nil, fmt.Errorf("tbwriter: read run: %w", err)
		}
		run = &Run{Name: ".", Files: files}
	}
	sort.Strings(run.Files)
	run.load()
	return run, nil
}

// NewRun assembles a run named name from its files as read, in load order:
// Files, Events and Err follow from them (see Run).
func NewRun(name string, files []*EventFile) *Run {
	r := &Run{Name: name, EventFiles: files}
	stopped := false
	for _, f := range files {
		r.Files = append(r.Files, f.Path)
		if stopped {
			continue
		}
		r.Events = append(r.Events, f.Events...)
		if f.Err == nil {
			continue
		}
		if r.Err == nil {
			r.Err = f.Err
		}
		if errors.Is(f.Err, ErrNotEvent) {
			stopped = true
		}
	}
	return r
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
	files, dirs, err := listDir(dir)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		byDir[dir] = files
	}
	for _, d := range dirs {
		if err := walkLogdir(d, byDir, ancestors); err != nil {
			return err
		}
	}
	return nil
}

// listDir returns the paths of the event files and of the directories
// directly in dir, in directory order, following symbolic links (a
// dangling one is ignored).
func listDir(dir string) (files, dirs []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
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
			dirs = append(dirs, path)
		case typ.IsRegular() && IsEventFile(e.Name()):
			files = append(files, path)
		}
	}
	return files, dirs, nil
}

// load reads the run's Files in order.
func (r *Run) load() {
	efs := make([]*EventFile, 0, len(r.Files))
	for _, path := range r.Files {
		efs = append(efs, ReadEventFile(path))
	}
	*r = *NewRun(r.Name, efs)
}

// loaded returns the events that rule's loader reads from the run, in
// order:
//
//   - NoPurge: Events.
//   - PythonPurge: the files in order, skipping *.profile-empty files
//     (IsProfileEmpty), up to and including the first file holding a record
//     that is not an Event, where the Python loader raises.
//   - RustPurge: every file up to its own damage (the data server drops a
//     file at a record it cannot decode and goes on with the next file:
//     data/server/run.rs reload_files), without events whose wall time is
//     NaN or infinite (run.rs read_event drops them).
//
// A Run without EventFiles (built by hand) uses Events under every rule.
func (r *Run) loaded(rule PurgeRule) []*tbpb.Event {
	if rule == NoPurge || r.EventFiles == nil {
		if rule != RustPurge {
			return r.Events
		}
		return finiteWall(r.Events)
	}
	var out []*tbpb.Event
	for _, f := range r.EventFiles {
		switch rule {
		case PythonPurge:
			if IsProfileEmpty(f.Path) {
				continue
			}
			out = append(out, f.Events...)
			if errors.Is(f.Err, ErrNotEvent) {
				return out
			}
		case RustPurge:
			out = append(out, finiteWall(f.Events)...)
		}
	}
	return out
}

// finiteWall returns the events of evs whose wall time is finite.
func finiteWall(evs []*tbpb.Event) []*tbpb.Event {
	for i, e := range evs {
		if isFinite(e.GetWallTime()) {
			continue
		}
		out := append([]*tbpb.Event(nil), evs[:i]...)
		for _, e := range evs[i+1:] {
			if isFinite(e.GetWallTime()) {
				out = append(out, e)
			}
		}
		return out
	}
	return evs
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Listed reports whether rule's loader lists the run at all. TensorBoard's
// Python loader lists every directory that directly holds an event file
// (io_wrapper.GetLogdirSubdirectories), even one holding only a
// *.profile-empty file or files without a record: such a run is listed with
// no data. Its Rust data server lists a run only once it has read an event
// with a finite wall time from it (data/server/server.rs list_runs keeps
// runs with a start_time). NoPurge lists every run.
func (r *Run) Listed(rule PurgeRule) bool {
	if rule != RustPurge {
		return true
	}
	return len(r.loaded(RustPurge)) > 0
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

// Series returns the run's time series, tag -> points in load order, as
// rule's loader keeps them:
//
//   - the events that loader reads (see below for profile-empty files,
//     undecodable records and NaN wall times);
//   - minus the points its purge rule drops (see PurgeRule);
//   - and, for every tag of the hparams plugin, only the FIRST value the
//     loader read, whatever was purged or written later: the hparams plugin
//     shows only a tag's plugin content, and both loaders keep the metadata
//     (which holds that content) of a tag's first value for good
//     (plugin_event_accumulator.py _ProcessEvent, "We only store the first
//     instance of the metadata"; data/server/run.rs read_event, metadata
//     only for a new time series). A second AddHParams, or a session end
//     written again when a run is extended, is thus invisible in TensorBoard.
//
// Files: NoPurge uses Events; PythonPurge skips *.profile-empty files
// (IsProfileEmpty) and stops the run at a record that is not an Event;
// RustPurge reads every file up to its own damage and skips events whose
// wall time is NaN or infinite. Sampling (TensorBoard shows at most a few
// hundred points per tag, depending on the plugin) is not applied.
func (r *Run) Series(rule PurgeRule) map[string][]Point {
	return r.series(rule, nil, nil)
}

// SeriesDropped is Series, also returning in load order the points of the
// loader's events that the rule leaves out: purged, or a later value of an
// hparams tag. Callers that need both compute the series once.
func (r *Run) SeriesDropped(rule PurgeRule) (map[string][]Point, []Point) {
	var dropped []Point
	order := map[*tbpb.Summary_Value]int{}
	out := r.series(rule, func(p Point) { dropped = append(dropped, p) }, order)
	sort.SliceStable(dropped, func(i, j int) bool { return order[dropped[i].Value] < order[dropped[j].Value] })
	return out, dropped
}

// series computes Series, calling drop (if not nil) for every point left
// out and numbering the points in load order in order (if not nil).
func (r *Run) series(rule PurgeRule, drop func(Point), order map[*tbpb.Summary_Value]int) map[string][]Point {
	out := map[string][]Point{}
	initialPlugin := map[string]string{}
	var (
		fileVersion    float64 // 0 = none seen (Python: None)
		seenStart      bool
		mostRecentStep int64 = -1 // plugin_event_accumulator initial most_recent_step
	)
	firstOnly := func(tag string) bool {
		return rule != NoPurge && initialPlugin[tag] == hparamsPluginName
	}
	purge := func(tag string, step int64) {
		if firstOnly(tag) {
			return // its first value stays shown
		}
		pts := out[tag]
		kept := pts[:0]
		for _, p := range pts {
			if p.Step < step {
				kept = append(kept, p)
			} else if drop != nil {
				drop(p)
			}
		}
		out[tag] = kept
	}
	for _, ev := range r.loaded(rule) {
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
			if order != nil {
				order[v] = len(order)
			}
			p := Point{Step: ev.Step, WallTime: ev.WallTime, Value: v}
			if firstOnly(tag) && len(out[tag]) > 0 {
				if drop != nil {
					drop(p)
				}
				continue
			}
			if rule == RustPurge {
				purge(tag, ev.Step)
			}
			out[tag] = append(out[tag], p)
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
