package main

import (
	"context"
	"errors"
	"io"
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
// event file (one run named after the file). Every file is read and decoded
// once (package tbwriter records each event's byte offset as it reads).
// Damage inside files is not an error here; it is recorded in the runs and
// files. The error is for arguments that cannot be read at all, or ctx.Err()
// when ctx ends between files.
func load(ctx context.Context, path string, rule tbwriter.PurgeRule, events bool) (*input, error) {
	fi, err := storage.Stat(context.Background(), path)
	if err != nil {
		return nil, err
	}
	in := &input{Path: path}
	if !fi.Dir {
		ef := tbwriter.ReadEventFile(path)
		in.Runs = append(in.Runs, newRunDump(tbwriter.NewRun(storage.Base(path), []*tbwriter.EventFile{ef}), rule, events))
		return in, nil
	}
	runs, err := tbwriter.ReadLogdirContext(ctx, path)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		rd := newRunDump(r, rule, events)
		rd.Embeddings, rd.EmbErr = loadEmbeddings(storage.Join(path, filepath.FromSlash(r.Name)))
		in.Runs = append(in.Runs, rd)
	}
	return in, nil
}

// newRunDump wraps a loaded run with its per-file view and its series under
// rule, computed once. With events (the --events listing) and a purge rule,
// it also notes the values that rule leaves out.
func newRunDump(r *tbwriter.Run, rule tbwriter.PurgeRule, events bool) *runDump {
	rd := &runDump{Name: r.Name, Err: r.Err, events: r.Events, listed: r.Listed(rule)}
	for _, ef := range r.EventFiles {
		rd.Files = append(rd.Files, &fileDump{
			Path: ef.Path, Name: storage.Base(ef.Path), Events: ef.Events, Offsets: ef.Offsets, Err: ef.Err,
			notRead: rule == tbwriter.PythonPurge && tbwriter.IsProfileEmpty(ef.Path),
		})
	}
	if events && rule != tbwriter.NoPurge {
		var dropped []tbwriter.Point
		rd.series, dropped = r.SeriesDropped(rule)
		rd.dropped = make(map[*tbpb.Summary_Value]bool, len(dropped))
		for _, p := range dropped {
			rd.dropped[p.Value] = true
		}
	} else {
		rd.series = r.Series(rule)
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
	case errors.Is(err, tbwriter.ErrRecordTooLarge):
		return "too_large"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "torn"
	}
	return "io"
}
