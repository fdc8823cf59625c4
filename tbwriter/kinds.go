package tbwriter

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Plugins TensorBoard's dataclass_compat.py gives to events that are not
// summaries: a graph_def becomes a value tagged "__run_graph__" of plugin
// "graphs" (plugins/graph/metadata.py RUN_GRAPH_NAME, PLUGIN_NAME), and a
// tagged_run_metadata a value of plugin "graph_tagged_run_metadata" under
// its own tag (PLUGIN_NAME_TAGGED_RUN_METADATA).
const (
	runGraphTag                 = "__run_graph__"
	graphsPluginName            = "graphs"
	taggedRunMetadataPluginName = "graph_tagged_run_metadata"
)

// tagClaim is one tag an event writes, with the plugin TensorBoard gives the
// value ([PluginName]).
type tagClaim struct {
	tag, plugin string
}

// tagKinds remembers the plugin of every tag a Writer has queued, so that a
// tag never changes kind within one Writer.
//
// Both TensorBoard loaders keep a tag's FIRST metadata and never replace it
// (plugin_event_accumulator.py _ProcessEvent: "We only store the first
// instance of the metadata"; data/server/run.rs read_event: the metadata of
// the vacant entry only): a later value of another kind under the same tag
// is then served by the first kind's plugin, which fails on it (an image
// under a scalar tag makes the scalars route answer HTTP 500). The same rule
// makes any second value of an hparams tag invisible, since the hparams
// plugin reads only the metadata.
//
// The check is keyed by plugin name, so every summary kind, present or
// future, goes through it without code of its own: AddScalar claims
// "scalars" directly (without allocating), every other value is claimed
// where AddEvent queues it.
type tagKinds struct {
	mu sync.Mutex
	m  map[string]string // tag -> plugin of its first value
}

// claimScalar records tag as a scalars tag, or returns a *KindError when it
// was logged with another plugin. It does not allocate once tag is known.
func (k *tagKinds) claimScalar(tag string) error {
	k.mu.Lock()
	have, ok := k.m[tag]
	if !ok {
		if k.m == nil {
			k.m = make(map[string]string)
		}
		k.m[tag] = scalarsPluginName
	}
	k.mu.Unlock()
	if ok && have != scalarsPluginName {
		return &KindError{Tag: tag, First: have, New: scalarsPluginName}
	}
	return nil
}

// claim records every claim or, when one conflicts with an earlier value of
// its tag (queued before, or earlier in claims), records none and returns
// the error: a *KindError for a change of plugin, or ErrHParamsRepeated for
// a second value of an hparams tag.
func (k *tagKinds) claim(claims []tagClaim) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i, c := range claims {
		have, ok := k.m[c.tag]
		if !ok {
			for _, prev := range claims[:i] {
				if prev.tag == c.tag {
					have, ok = prev.plugin, true
					break
				}
			}
		}
		if !ok {
			continue
		}
		if have != c.plugin {
			return &KindError{Tag: c.tag, First: have, New: c.plugin}
		}
		if c.plugin == hparamsPluginName {
			return fmt.Errorf("%w: tag %q", ErrHParamsRepeated, c.tag)
		}
	}
	if k.m == nil {
		k.m = make(map[string]string, len(claims))
	}
	for _, c := range claims {
		k.m[c.tag] = c.plugin
	}
	return nil
}

// has reports whether tag has been claimed.
func (k *tagKinds) has(tag string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.m[tag]
	return ok
}

// eventClaims returns the tags ev writes, each with the plugin TensorBoard
// files it under, after checking what TensorBoard cannot show: a text value
// must be valid UTF-8 (the text plugin decodes every string of a tag and
// fails the whole tag on one bad string).
func eventClaims(ev *tbpb.Event) ([]tagClaim, error) {
	switch x := ev.GetWhat().(type) {
	case *tbpb.Event_Summary:
		vals := x.Summary.GetValue()
		claims := make([]tagClaim, 0, len(vals))
		for _, v := range vals {
			tag := v.GetTag()
			if tag == "" {
				tag = v.GetNodeName() // TensorBoard's fallback for old tensor summaries
			}
			plugin := PluginName(v)
			if plugin == textPluginName {
				for _, s := range v.GetTensor().GetStringVal() {
					if !utf8.Valid(s) {
						return nil, fmt.Errorf("tbwriter: text %q is not valid UTF-8", tag)
					}
				}
			}
			claims = append(claims, tagClaim{tag: tag, plugin: plugin})
		}
		return claims, nil
	case *tbpb.Event_GraphDef:
		return []tagClaim{{tag: runGraphTag, plugin: graphsPluginName}}, nil
	case *tbpb.Event_TaggedRunMetadata:
		return []tagClaim{{tag: x.TaggedRunMetadata.GetTag(), plugin: taggedRunMetadataPluginName}}, nil
	}
	return nil, nil
}

// kindName describes a plugin name in errors.
func kindName(plugin string) string {
	if plugin == "" {
		return "a value of no plugin"
	}
	return "plugin " + plugin
}
