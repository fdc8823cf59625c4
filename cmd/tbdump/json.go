package main

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/tbtrain/tbtrain/internal/jsonfloat"
	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// The --json document. Field names are part of tbdump's interface for
// scripts; add fields, do not rename them.
type jsonDoc struct {
	Purge        string      `json:"purge"`
	Inputs       []jsonInput `json:"inputs"`
	DamagedFiles int         `json:"damaged_files"`
}

type jsonInput struct {
	Path string    `json:"path"`
	Runs []jsonRun `json:"runs"`
}

type jsonRun struct {
	Name string `json:"name"`
	// NotListed is true when the --purge loader does not list the run at
	// all (the Rust data server: no event with a finite wall time).
	NotListed bool          `json:"not_listed,omitempty"`
	Files     []jsonFile    `json:"files"`
	Error     *jsonError    `json:"error,omitempty"`
	Sessions  []jsonSession `json:"sessions"`
	// OtherEvents counts graph_def, meta_graph_def, tagged_run_metadata,
	// log_message and empty events by kind.
	OtherEvents map[string]int `json:"other_events,omitempty"`
	// MixedKinds lists the tags whose values name more than one plugin.
	MixedKinds []jsonMixed `json:"mixed_kinds,omitempty"`
	// Graphs lists the run's graph_def events with their node counts.
	Graphs []jsonGraph `json:"graphs,omitempty"`
	// Embeddings lists the run's projector_config.pbtxt entries.
	Embeddings     []jsonEmbedding `json:"embeddings,omitempty"`
	EmbeddingError string          `json:"embedding_error,omitempty"`
	Tags           []jsonTag       `json:"tags,omitempty"`
}

type jsonMixed struct {
	Tag   string     `json:"tag"`
	Kinds []jsonKind `json:"kinds"` // in order of first appearance; TensorBoard keeps the first
}

type jsonKind struct {
	Plugin string `json:"plugin"`
	Count  int    `json:"count"`
}

type jsonFile struct {
	Name        string      `json:"name"`
	Path        string      `json:"path"`
	Events      int         `json:"events"`
	FirstStep   *int64      `json:"first_step,omitempty"` // smallest step (the file_version header's step 0 aside); absent when there is none
	LastStep    *int64      `json:"last_step,omitempty"`  // largest step
	NotRead     bool        `json:"not_read,omitempty"`   // the --purge loader skips the file (a *.profile-empty under python)
	FileVersion string      `json:"file_version,omitempty"`
	Error       *jsonError  `json:"error,omitempty"`
	EventList   []jsonEvent `json:"event_list,omitempty"` // only with --events
}

type jsonError struct {
	Offset *int64 `json:"offset,omitempty"` // byte offset of the record that failed
	Kind   string `json:"kind"`             // torn, length_crc, data_crc, not_event, too_large, io
	Reason string `json:"reason"`
}

type jsonSession struct {
	Status   string          `json:"status"`
	Step     int64           `json:"step"`
	WallTime jsonfloat.Float `json:"wall_time"`
	File     string          `json:"file"`
}

type jsonTag struct {
	Tag       string `json:"tag"`
	Plugin    string `json:"plugin"`
	DataClass string `json:"data_class"`
	Kind      string `json:"kind"`
	Count     int    `json:"count"`
	// Shown is how many of the count points TensorBoard displays by
	// default (its loader's sampling and its dashboard's request); absent
	// under --purge=none.
	Shown   *int      `json:"shown,omitempty"`
	Dups    int       `json:"duplicate_steps"`
	MinStep int64     `json:"min_step"`
	MaxStep int64     `json:"max_step"`
	First   jsonPoint `json:"first"`
	Last    jsonPoint `json:"last"`
}

type jsonPoint struct {
	Step     int64           `json:"step"`
	WallTime jsonfloat.Float `json:"wall_time"`
	jsonValue
}

type jsonValue struct {
	// Number is set for scalars (see jsonfloat.Float for NaN and infinities).
	Number *jsonfloat.Float `json:"number,omitempty"`
	// Text is set for single-string tensors (the text plugin).
	Text *string `json:"text,omitempty"`
	// Summary is the same one-line description the text output shows.
	Summary string `json:"summary"`
	jsonKinds
}

type jsonEvent struct {
	Index    int             `json:"index"`
	Offset   *int64          `json:"offset,omitempty"` // byte offset of the event's record
	Step     int64           `json:"step"`
	WallTime jsonfloat.Float `json:"wall_time"`
	What     string          `json:"what"`
	Detail   string          `json:"detail,omitempty"`
	// GraphNodes is the node count of a graph_def event.
	GraphNodes *int             `json:"graph_nodes,omitempty"`
	Values     []jsonEventValue `json:"values,omitempty"`
}

type jsonEventValue struct {
	Tag    string `json:"tag"`
	Plugin string `json:"plugin"`
	Kind   string `json:"kind"`
	// Dropped is true when the --purge rule removes this point.
	Dropped bool `json:"dropped,omitempty"`
	jsonValue
}

func newJSONValue(v *tbpb.Summary_Value, plugin string) jsonValue {
	jv := jsonValue{Summary: describeValue(v, plugin), jsonKinds: newJSONKinds(v, plugin)}
	if f, ok := scalarOf(v); ok {
		n := jsonfloat.Float(f)
		jv.Number = &n
	} else if t := v.GetTensor(); t.GetDtype() == tbpb.DataType_DT_STRING && len(t.GetStringVal()) == 1 {
		s := string(t.GetStringVal()[0])
		jv.Text = &s
	}
	return jv
}

func newJSONError(err error) *jsonError {
	if err == nil {
		return nil
	}
	off, reason, ok := describeErr(err)
	je := &jsonError{Kind: errKind(err), Reason: strings.TrimPrefix(reason, "tbwriter: ")}
	if ok {
		je.Offset = &off
	}
	return je
}

// writeJSON prints the whole dump as one indented JSON document.
func writeJSON(w io.Writer, ins []*input, o *options) error {
	doc := jsonDoc{Purge: o.purge, Inputs: []jsonInput{}}
	for _, in := range ins {
		ji := jsonInput{Path: in.Path, Runs: []jsonRun{}}
		for _, r := range in.Runs {
			jr := jsonRun{Name: r.Name, NotListed: !r.listed, Files: []jsonFile{}, Error: newJSONError(r.Err), Sessions: []jsonSession{}}
			for _, f := range r.Files {
				jf := jsonFile{Name: f.Name, Path: f.Path, Events: len(f.Events), FileVersion: fileVersion(f.Events), Error: newJSONError(f.Err), NotRead: f.notRead}
				if lo, hi, ok := stepRange(f.Events); ok {
					jf.FirstStep, jf.LastStep = &lo, &hi
				}
				if f.Err != nil {
					doc.DamagedFiles++
				}
				if o.events {
					jf.EventList = jsonEvents(r, f, o)
				}
				jr.Files = append(jr.Files, jf)
			}
			if other := r.otherEvents(); len(other) > 0 {
				jr.OtherEvents = other
			}
			for _, g := range r.graphs() {
				jr.Graphs = append(jr.Graphs, jsonGraph(g))
			}
			for _, e := range r.Embeddings {
				jr.Embeddings = append(jr.Embeddings, newJSONEmbedding(e))
			}
			if r.EmbErr != nil {
				jr.EmbeddingError = strings.TrimPrefix(cleanErr(r.EmbErr.Error()), "tbwriter: ")
			}
			for _, s := range r.sessions() {
				jr.Sessions = append(jr.Sessions, jsonSession{Status: s.Status, Step: s.Step, WallTime: jsonfloat.Float(s.WallTime), File: s.File})
			}
			for _, m := range r.mixedKinds(o.tags) {
				jm := jsonMixed{Tag: m.Tag}
				for _, k := range m.Kinds {
					jm.Kinds = append(jm.Kinds, jsonKind(k))
				}
				jr.MixedKinds = append(jr.MixedKinds, jm)
			}
			if !o.events {
				for _, t := range r.tags(o.tags, o.rule) {
					var shown *int
					if t.Shown >= 0 {
						shown = &t.Shown
					}
					jr.Tags = append(jr.Tags, jsonTag{
						Tag: t.Tag, Plugin: t.Plugin, DataClass: t.DataClass, Kind: t.Kind, Count: t.Count, Shown: shown, Dups: t.Dups,
						MinStep: t.MinStep, MaxStep: t.MaxStep,
						First: jsonPoint{Step: t.First.Step, WallTime: jsonfloat.Float(t.First.WallTime), jsonValue: newJSONValue(t.First.Value, t.Plugin)},
						Last:  jsonPoint{Step: t.Last.Step, WallTime: jsonfloat.Float(t.Last.WallTime), jsonValue: newJSONValue(t.Last.Value, t.Plugin)},
					})
				}
			}
			ji.Runs = append(ji.Runs, jr)
		}
		doc.Inputs = append(doc.Inputs, ji)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// eventKind names the member of the Event oneof that is set.
func eventKind(e *tbpb.Event) string {
	switch e.GetWhat().(type) {
	case *tbpb.Event_FileVersion:
		return "file_version"
	case *tbpb.Event_Summary:
		return "summary"
	case *tbpb.Event_SessionLog:
		return "session_log"
	case *tbpb.Event_GraphDef:
		return "graph_def"
	case *tbpb.Event_MetaGraphDef:
		return "meta_graph_def"
	case *tbpb.Event_TaggedRunMetadata:
		return "tagged_run_metadata"
	case *tbpb.Event_LogMessage:
		return "log_message"
	}
	return "empty"
}

func jsonEvents(r *runDump, f *fileDump, o *options) []jsonEvent {
	out := make([]jsonEvent, 0, len(f.Events))
	plugins := make(map[string]string)
	for i, e := range f.Events {
		vals := o.values(e)
		if e.GetSummary() != nil && len(vals) == 0 && len(e.GetSummary().GetValue()) > 0 {
			continue // every value filtered out by --tags
		}
		je := jsonEvent{Index: i, Step: e.GetStep(), WallTime: jsonfloat.Float(e.GetWallTime()), What: eventKind(e)}
		if off, ok := f.offset(i); ok {
			je.Offset = &off
		}
		if je.What != "summary" {
			je.Detail = eventWhat(e)
		}
		if n, ok := graphNodes(e); ok {
			je.GraphNodes = &n
		}
		for _, v := range vals {
			p := valuePlugin(v, plugins)
			je.Values = append(je.Values, jsonEventValue{Tag: v.GetTag(), Plugin: p, Kind: valueKind(v), Dropped: r.dropped[v], jsonValue: newJSONValue(v, p)})
		}
		out = append(out, je)
	}
	return out
}
