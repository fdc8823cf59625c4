package main

import (
	"cmp"
	"regexp"
	"slices"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// input is one command-line argument (a log directory or an event file) and
// the runs found under it.
type input struct {
	Path string
	Runs []*runDump
}

// runDump is one run: its files as read one by one, and its tags as the
// chosen loader rule leaves them.
type runDump struct {
	Name  string
	Files []*fileDump
	// Err is the loader's run-level error (the first damage it met), which
	// may stop the run before its last file.
	Err error
	// events is the run's event stream (all files, in name order, up to
	// the record that is not an Event where TensorBoard's Python loader
	// stops the run).
	events []*tbpb.Event
	// listed is false when the purge rule's loader does not list the run
	// at all (tbwriter.Run.Listed).
	listed bool
	// series maps each tag to its points after the purge rule.
	series map[string][]point
	// Embeddings are the entries of the run directory's projector config
	// (only for runs found under a log directory); EmbErr is why that
	// config could not be read.
	Embeddings []embeddingDump
	EmbErr     error
	// dropped holds the values that are points without purging but that the
	// purge rule removes (nil under --purge=none).
	dropped map[*tbpb.Summary_Value]bool
}

// fileDump is one event file read on its own.
type fileDump struct {
	Path   string // as opened, for messages
	Name   string // base name, for display
	Events []*tbpb.Event
	Err    error // damage (a *tbwriter.FileError) or an I/O error
	// Offsets[i] is the byte offset of the record of Events[i].
	Offsets []int64
	// notRead is set when the purge rule's loader skips the file (a
	// *.profile-empty file under the Python loader).
	notRead bool
}

// offset returns the byte offset of event i, if known.
func (f *fileDump) offset(i int) (int64, bool) {
	if i < len(f.Offsets) {
		return f.Offsets[i], true
	}
	return 0, false
}

// point is one value of a tag's series.
type point = tbwriter.Point

// session is one SessionLog event of a run.
type session struct {
	Status   string
	Step     int64
	WallTime float64
	File     string
}

// tagStats summarizes one tag's series.
type tagStats struct {
	Tag       string
	Plugin    string
	DataClass string
	Kind      string
	Count     int
	// Dups is Count minus the number of distinct steps: how many points a
	// viewer would draw on top of an earlier point at the same step.
	Dups             int
	MinStep, MaxStep int64
	First, Last      point
	// Shown is how many of the Count points TensorBoard displays by
	// default (see shownLimit); -1 under --purge=none, where no loader is
	// chosen.
	Shown int
}

// stepRange returns the smallest and largest step among evs, leaving out
// file_version events (a file's header, always at step 0), and false when
// no other event is left.
func stepRange(evs []*tbpb.Event) (lo, hi int64, ok bool) {
	for _, e := range evs {
		if _, header := e.GetWhat().(*tbpb.Event_FileVersion); header {
			continue
		}
		s := e.GetStep()
		if !ok || s < lo {
			lo = s
		}
		if !ok || s > hi {
			hi = s
		}
		ok = true
	}
	return lo, hi, ok
}

// fileVersion returns the file_version of the file's first event, or "".
func fileVersion(evs []*tbpb.Event) string {
	if len(evs) == 0 {
		return ""
	}
	return evs[0].GetFileVersion()
}

// sessions lists the SessionLog events of a run's files in load order.
func (r *runDump) sessions() []session {
	var out []session
	for _, f := range r.Files {
		for _, e := range f.Events {
			if sl := e.GetSessionLog(); sl != nil {
				out = append(out, session{Status: sl.GetStatus().String(), Step: e.GetStep(), WallTime: e.GetWallTime(), File: f.Name})
			}
		}
	}
	return out
}

// otherEvents counts the run's events that are neither summaries, session
// logs nor the file_version header (graphs, run metadata, log messages), by
// kind.
func (r *runDump) otherEvents() map[string]int {
	m := make(map[string]int)
	for _, f := range r.Files {
		for _, e := range f.Events {
			switch k := eventKind(e); k {
			case "summary", "session_log", "file_version":
			default:
				m[k]++
			}
		}
	}
	return m
}

// tagMeta is what the first metadata of a tag says.
type tagMeta struct {
	plugin    string
	dataClass tbpb.DataClass
}

// firstMetadata maps every tag of evs to the plugin and data class given by
// its first value that carries plugin metadata; tags without any get the
// plugin TensorBoard assigns to legacy values of their kind.
func firstMetadata(evs []*tbpb.Event) map[string]tagMeta {
	m := make(map[string]tagMeta)
	for _, e := range evs {
		for _, v := range e.GetSummary().GetValue() {
			old, seen := m[v.GetTag()]
			if seen && old.plugin != "" {
				continue
			}
			if pd := v.GetMetadata().GetPluginData(); pd.GetPluginName() != "" {
				m[v.GetTag()] = tagMeta{plugin: pd.GetPluginName(), dataClass: v.GetMetadata().GetDataClass()}
				continue
			}
			if !seen || old.plugin == "" {
				m[v.GetTag()] = tagMeta{plugin: tbwriter.PluginName(v)}
			}
		}
	}
	return m
}

// tags summarizes the run's series, sorted by tag, with what rule's loader
// shows of each. A non-nil filter keeps only the tags it matches.
func (r *runDump) tags(filter *regexp.Regexp, rule tbwriter.PurgeRule) []*tagStats {
	meta := firstMetadata(r.events)
	out := make([]*tagStats, 0, len(r.series))
	for tag, pts := range r.series {
		if len(pts) == 0 || (filter != nil && !filter.MatchString(tag)) {
			continue
		}
		md := meta[tag]
		if md.plugin == "" {
			md.plugin = tbwriter.PluginName(pts[0].Value)
		}
		dc := md.dataClass
		if dc == tbpb.DataClass_DATA_CLASS_UNKNOWN {
			dc = pluginDataClass(md.plugin)
		}
		ts := &tagStats{
			Tag: tag, Plugin: md.plugin, DataClass: dc.String(), Kind: valueKind(pts[0].Value),
			Count: len(pts), First: pts[0], Last: pts[len(pts)-1],
			MinStep: pts[0].Step, MaxStep: pts[0].Step, Shown: -1,
		}
		if rule != tbwriter.NoPurge {
			ts.Shown = min(len(pts), shownLimit(rule, md.plugin, md.dataClass, pts[0].Value))
		}
		steps := make(map[int64]struct{}, len(pts))
		for _, p := range pts {
			ts.MinStep = min(ts.MinStep, p.Step)
			ts.MaxStep = max(ts.MaxStep, p.Step)
			steps[p.Step] = struct{}{}
		}
		ts.Dups = len(pts) - len(steps)
		out = append(out, ts)
	}
	slices.SortFunc(out, func(a, b *tagStats) int { return cmp.Compare(a.Tag, b.Tag) })
	return out
}

// kindCount is how many values of a tag carry one plugin.
type kindCount struct {
	Plugin string
	Count  int
}

// mixedTag is a tag whose values carry more than one plugin.
type mixedTag struct {
	Tag   string
	Kinds []kindCount // in order of first appearance
}

// mixedKinds lists the tags of the run whose values name more than one
// plugin, sorted by tag. Only values that name a plugin themselves count
// (plugin metadata, or a legacy kind: simple_value, histo, image, audio):
// TensorFlow's writers strip the metadata from every value of a tag but the
// first, and such bare values simply belong to the tag's plugin. TensorBoard
// files the whole tag under its first plugin and fails on the other values
// (its scalars route answers HTTP 500 for a scalar tag holding an image).
func (r *runDump) mixedKinds(filter *regexp.Regexp) []mixedTag {
	byTag := make(map[string][]kindCount)
	for _, e := range r.events {
		for _, v := range e.GetSummary().GetValue() {
			p := tbwriter.PluginName(v)
			if p == "" {
				continue
			}
			tag := v.GetTag()
			kinds := byTag[tag]
			i := slices.IndexFunc(kinds, func(k kindCount) bool { return k.Plugin == p })
			if i < 0 {
				kinds = append(kinds, kindCount{Plugin: p})
				i = len(kinds) - 1
			}
			kinds[i].Count++
			byTag[tag] = kinds
		}
	}
	var out []mixedTag
	for tag, kinds := range byTag {
		if len(kinds) > 1 && (filter == nil || filter.MatchString(tag)) {
			out = append(out, mixedTag{Tag: tag, Kinds: kinds})
		}
	}
	slices.SortFunc(out, func(a, b mixedTag) int { return cmp.Compare(a.Tag, b.Tag) })
	return out
}
