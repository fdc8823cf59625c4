package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// purgeRules maps the --purge flag values to the loader rules of package
// tbwriter.
var purgeRules = map[string]tbwriter.PurgeRule{
	"none":   tbwriter.NoPurge,
	"python": tbwriter.PythonPurge,
	"rust":   tbwriter.RustPurge,
}

// load reads one argument: a log directory (every run under it) or a single
// event file (one run named after the file). Damage inside files is not an
// error here; it is recorded in the runs and files. The error is for
// arguments that cannot be read at all.
//
// With offsets, every file is read a second time through the record framing
// alone to learn each record's byte offset (for --events).
func load(ctx context.Context, path string, rule tbwriter.PurgeRule, offsets bool) (*input, error) {
	fi, err := stat(path)
	if err != nil {
		return nil, err
	}
	in := &input{Path: path}
	if !fi.Dir {
		fd := readFile(path, offsets)
		run := &tbwriter.Run{Name: storage.Base(path), Files: []string{path}, Events: fd.Events, Err: fd.Err}
		in.Runs = append(in.Runs, newRunDump(run, []*fileDump{fd}, rule))
		return in, nil
	}
	runs, err := tbwriter.ReadLogdir(path)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		files := make([]*fileDump, 0, len(r.Files))
		for _, f := range r.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			files = append(files, readFile(f, offsets))
		}
		shareEvents(r, files)
		rd := newRunDump(r, files, rule)
		rd.Embeddings, rd.EmbErr = loadEmbeddings(storage.Join(path, filepath.FromSlash(r.Name)))
		in.Runs = append(in.Runs, rd)
	}
	return in, nil
}

// readFile reads one event file on its own and, if offsets is set, the byte
// offset of each of its records.
func readFile(path string, offsets bool) *fileDump {
	evs, err := tbwriter.ReadFile(path)
	fd := &fileDump{Path: path, Name: storage.Base(path), Events: evs, Err: err}
	if offsets && storage.IsURL(path) {
		if b, err := readAll(path); err == nil {
			fd.Offsets = recordOffsets(bytes.NewReader(b))
		}
	} else if offsets {
		if f, err := os.Open(path); err == nil {
			fd.Offsets = recordOffsets(f)
			f.Close()
		}
	}
	return fd
}

// recordOffsets returns the byte offset of every record the framing reader
// can read from r, in order. Event i of tbwriter.ReadFile is decoded from
// record i, so offsets[i] is where event i starts.
func recordOffsets(r io.Reader) []int64 {
	rr := tbwriter.NewRecordReader(r)
	var offs []int64
	for {
		off := rr.Offset()
		if _, err := rr.Next(); err != nil {
			return offs
		}
		offs = append(offs, off)
	}
}

// shareEvents makes each file's events the very objects of the run's event
// stream, so that values can be matched by pointer against the run's series
// (for the "dropped" marks of --events). Both come from the same decoder, so
// a file contributes exactly len(f.Events) events to the stream; files after
// the point where the loader stopped the run keep their own events.
func shareEvents(r *tbwriter.Run, files []*fileDump) {
	i := 0
	for _, f := range files {
		n := len(f.Events)
		if i+n > len(r.Events) {
			return
		}
		f.Events = r.Events[i : i+n]
		i += n
	}
}

// newRunDump wraps a loaded run with its per-file view and its series under
// rule.
func newRunDump(r *tbwriter.Run, files []*fileDump, rule tbwriter.PurgeRule) *runDump {
	rd := &runDump{Name: r.Name, Files: files, Err: r.Err, events: r.Events, series: make(map[string][]point)}
	kept := make(map[*tbpb.Summary_Value]bool)
	for tag, pts := range r.Series(rule) {
		conv := make([]point, len(pts))
		for i, p := range pts {
			conv[i] = point{Step: p.Step, WallTime: p.WallTime, Value: p.Value}
			kept[p.Value] = true
		}
		rd.series[tag] = conv
	}
	if rule != tbwriter.NoPurge {
		rd.dropped = make(map[*tbpb.Summary_Value]bool)
		for _, pts := range r.Series(tbwriter.NoPurge) {
			for _, p := range pts {
				if !kept[p.Value] {
					rd.dropped[p.Value] = true
				}
			}
		}
	}
	return rd
}

// describeErr is the reason part of a damage report: for a *tbwriter.FileError
// the wrapped cause, otherwise the whole error.
func describeErr(err error) (offset int64, reason string, hasOffset bool) {
	if fe, ok := errors.AsType[*tbwriter.FileError](err); ok {
		return fe.Offset, cleanErr(fe.Err.Error()), true
	}
	return 0, cleanErr(err.Error()), false
}

// errKind classifies damage for scripts (the "kind" field of --json).
func errKind(err error) string {
	switch {
	case errors.Is(err, tbwriter.ErrLengthCRC):
		return "length_crc"
	case errors.Is(err, tbwriter.ErrDataCRC):
		return "data_crc"
	case errors.Is(err, tbwriter.ErrNotEvent):
		return "not_event"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "torn"
	}
	return "io"
}
