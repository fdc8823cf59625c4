package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// formatWall prints a wall time (seconds since the epoch) exactly, with the
// shortest digits that read back as the same float64.
func formatWall(w float64) string {
	return strconv.FormatFloat(w, 'f', -1, 64)
}

// stepsText prints a step range "lo..hi", or "-" when there are no events.
func stepsText(lo, hi int64, ok bool) string {
	if !ok {
		return "-"
	}
	if lo == hi {
		return strconv.FormatInt(lo, 10)
	}
	return strconv.FormatInt(lo, 10) + ".." + strconv.FormatInt(hi, 10)
}

// damageText is the one-line description of a damaged file or run.
func damageText(err error) string {
	off, reason, ok := describeErr(err)
	reason = strings.TrimPrefix(reason, "tbwriter: ")
	if ok {
		return fmt.Sprintf("DAMAGED at offset %d (%s): %s", off, errKind(err), reason)
	}
	return fmt.Sprintf("ERROR (%s): %s", errKind(err), reason)
}

// plural returns "1 event" / "2 events".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// writeText prints the per-run overview: files, sessions and the tag table.
func writeText(w io.Writer, ins []*input, o *options) error {
	bw := &errWriter{w: w}
	for _, in := range ins {
		if len(ins) > 1 {
			fmt.Fprintf(bw, "== %s\n", in.Path)
		}
		if len(in.Runs) == 0 {
			fmt.Fprintf(bw, "no event files under %s\n", in.Path)
		}
		for _, r := range in.Runs {
			writeRunText(bw, r, o)
		}
	}
	return bw.err
}

// loaderName names the loader of a purge rule in notes.
func loaderName(o *options) string {
	if o.rule == tbwriter.RustPurge {
		return "TensorBoard's Rust data server"
	}
	return "TensorBoard's Python loader"
}

func writeRunText(w io.Writer, r *runDump, o *options) {
	fmt.Fprintf(w, "run %s", displayTag(r.Name))
	if !r.listed {
		fmt.Fprintf(w, "  (not listed by %s: no event with a finite wall time)", loaderName(o))
	}
	fmt.Fprintln(w)
	fileErrs := make(map[string]bool)
	for _, f := range r.Files {
		lo, hi, ok := stepRange(f.Events)
		fmt.Fprintf(w, "  file %s  %s  steps %s", f.Name, plural(len(f.Events), "event"), stepsText(lo, hi, ok))
		if v := fileVersion(f.Events); v != "" {
			fmt.Fprintf(w, "  %s", v)
		} else if len(f.Events) > 0 {
			fmt.Fprint(w, "  (no file_version)")
		}
		if f.Err != nil {
			fmt.Fprintf(w, "  %s", damageText(f.Err))
			fileErrs[f.Err.Error()] = true
		}
		if f.notRead {
			fmt.Fprintf(w, "  (not read by %s: *.profile-empty)", loaderName(o))
		}
		fmt.Fprintln(w)
		if o.events {
			writeEventsText(w, r, f, o)
		}
	}
	if r.Err != nil && !fileErrs[r.Err.Error()] {
		fmt.Fprintf(w, "  run %s\n", damageText(r.Err))
	}
	for _, s := range r.sessions() {
		fmt.Fprintf(w, "  session %s at step %d  (%s)\n", s.Status, s.Step, s.File)
	}
	if other := r.otherEvents(); len(other) > 0 {
		kinds := slices.Sorted(maps.Keys(other))
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = k + " " + strconv.Itoa(other[k])
		}
		fmt.Fprintf(w, "  other events: %s\n", strings.Join(parts, ", "))
	}
	for _, g := range r.graphs() {
		if g.Nodes < 0 {
			fmt.Fprintf(w, "  graph at step %d: undecodable GraphDef  (%s)\n", g.Step, g.File)
		} else {
			fmt.Fprintf(w, "  graph at step %d: %s  (%s)\n", g.Step, plural(g.Nodes, "node"), g.File)
		}
	}
	if r.EmbErr != nil {
		fmt.Fprintf(w, "  embeddings: ERROR: %s\n", strings.TrimPrefix(cleanErr(r.EmbErr.Error()), "tbwriter: "))
	}
	if len(r.Embeddings) > 0 {
		fmt.Fprintf(w, "  embeddings (%s):\n", tbwriter.ProjectorConfigFile)
		for _, e := range r.Embeddings {
			fmt.Fprintf(w, "    %s\n", e.text())
		}
	}
	for _, m := range r.mixedKinds(o.tags) {
		parts := make([]string, len(m.Kinds))
		for i, k := range m.Kinds {
			parts[i] = k.Plugin + " " + strconv.Itoa(k.Count)
		}
		fmt.Fprintf(w, "  MIXED KINDS %s: %s (TensorBoard files the whole tag under %s, its first kind, and cannot show the rest; its Python loader fails the tag)\n",
			displayTag(m.Tag), strings.Join(parts, ", "), m.Kinds[0].Plugin)
	}
	if o.events {
		return
	}
	tags := r.tags(o.tags, o.rule)
	if len(tags) == 0 {
		fmt.Fprintf(w, "  no tags (purge %s)\n", o.purge)
		return
	}
	if o.rule == tbwriter.NoPurge {
		fmt.Fprintf(w, "  tags (purge none; COUNT is before TensorBoard's purge and sampling, see --purge):\n")
	} else {
		fmt.Fprintf(w, "  tags (purge %s; SHOWN is what %s and its dashboards display by default):\n", o.purge, loaderName(o))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	shown := func(t *tagStats) string { return "" }
	if o.rule == tbwriter.NoPurge {
		fmt.Fprintln(tw, "    TAG\tPLUGIN\tKIND\tCOUNT\tSTEPS\tDUPS\tFIRST\tLAST")
	} else {
		fmt.Fprintln(tw, "    TAG\tPLUGIN\tKIND\tCOUNT\tSHOWN\tSTEPS\tDUPS\tFIRST\tLAST")
		shown = func(t *tagStats) string { return strconv.Itoa(t.Shown) + "\t" }
	}
	for _, t := range tags {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%d\t%s%s\t%d\t@%d %s\t@%d %s\n",
			displayTag(t.Tag), t.Plugin, t.Kind, t.Count, shown(t), stepsText(t.MinStep, t.MaxStep, true), t.Dups,
			t.First.Step, describeValue(t.First.Value, t.Plugin), t.Last.Step, describeValue(t.Last.Value, t.Plugin))
	}
	tw.Flush()
}

// writeEventsText lists every event of one file in file order.
func writeEventsText(w io.Writer, r *runDump, f *fileDump, o *options) {
	plugins := make(map[string]string) // tag -> plugin, from the first metadata in this file
	for i, e := range f.Events {
		vals := o.values(e)
		if e.GetSummary() != nil && len(vals) == 0 && len(e.GetSummary().GetValue()) > 0 {
			continue // every value filtered out by --tags
		}
		at := ""
		if off, ok := f.offset(i); ok {
			at = " @" + strconv.FormatInt(off, 10)
		}
		fmt.Fprintf(w, "    #%d%s step %d wall %s %s\n", i, at, e.GetStep(), formatWall(e.GetWallTime()), eventWhat(e))
		for _, v := range vals {
			p := valuePlugin(v, plugins)
			mark := ""
			switch {
			case r.dropped[v] && p == "hparams":
				mark = "  [ignored: TensorBoard shows only the first value of an hparams tag]"
			case r.dropped[v]:
				mark = "  [dropped by " + o.purge + " purge]"
			}
			fmt.Fprintf(w, "        %s  %s/%s  %s%s\n", displayTag(v.GetTag()), p, valueKind(v), describeValue(v, p), mark)
		}
	}
	if f.Err != nil {
		fmt.Fprintf(w, "    %s\n", damageText(f.Err))
	}
}

// valuePlugin returns the plugin of v: its own metadata, else the first
// metadata seen for its tag (remembered in seen), else the legacy plugin of its
// kind.
func valuePlugin(v *tbpb.Summary_Value, seen map[string]string) string {
	if p := v.GetMetadata().GetPluginData().GetPluginName(); p != "" {
		if _, ok := seen[v.GetTag()]; !ok {
			seen[v.GetTag()] = p
		}
		return p
	}
	if p, ok := seen[v.GetTag()]; ok {
		return p
	}
	return tbwriter.PluginName(v)
}

// eventWhat describes the non-summary part of an event on one line.
func eventWhat(e *tbpb.Event) string {
	switch x := e.GetWhat().(type) {
	case *tbpb.Event_FileVersion:
		s := "file_version " + strconv.Quote(x.FileVersion)
		if w := e.GetSourceMetadata().GetWriter(); w != "" {
			s += " writer " + strconv.Quote(w)
		}
		return s
	case *tbpb.Event_Summary:
		return "summary (" + plural(len(x.Summary.GetValue()), "value") + ")"
	case *tbpb.Event_SessionLog:
		s := "session_log " + x.SessionLog.GetStatus().String()
		if p := x.SessionLog.GetCheckpointPath(); p != "" {
			s += " checkpoint " + strconv.Quote(p)
		}
		if m := x.SessionLog.GetMsg(); m != "" {
			s += " msg " + quoteText(m)
		}
		return s
	case *tbpb.Event_GraphDef:
		if n, ok := graphNodes(e); ok {
			return fmt.Sprintf("graph_def %dB nodes=%d", len(x.GraphDef), n)
		}
		return fmt.Sprintf("graph_def %dB (undecodable)", len(x.GraphDef))
	case *tbpb.Event_MetaGraphDef:
		return fmt.Sprintf("meta_graph_def %dB", len(x.MetaGraphDef))
	case *tbpb.Event_TaggedRunMetadata:
		return fmt.Sprintf("tagged_run_metadata %q %dB", x.TaggedRunMetadata.GetTag(), len(x.TaggedRunMetadata.GetRunMetadata()))
	case *tbpb.Event_LogMessage:
		//lint:ignore SA1019 TensorBoard deprecated log_message, but old files hold it and tbdump shows every event
		return "log_message " + x.LogMessage.GetLevel().String() + " " + quoteText(x.LogMessage.GetMessage())
	}
	return "empty"
}

// errWriter remembers the first write error so that the printing code can
// stay linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
