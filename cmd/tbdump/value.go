package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// maxText is the longest string (in runes) shown for a text value before it
// is cut with "…"; full values are in the files themselves.
const maxText = 60

// Value kinds, named after the Summary.Value oneof members
// (tensorboard/compat/proto/summary.proto).
const (
	kindSimple   = "simple_value"
	kindTensor   = "tensor"
	kindHisto    = "histo"
	kindImage    = "image"
	kindAudio    = "audio"
	kindOldHisto = "obsolete_old_style_histogram"
	kindNone     = "none"
)

// valueKind names the member of v's value oneof that is set.
func valueKind(v *tbpb.Summary_Value) string {
	switch v.GetValue().(type) {
	case *tbpb.Summary_Value_SimpleValue:
		return kindSimple
	case *tbpb.Summary_Value_Tensor:
		return kindTensor
	case *tbpb.Summary_Value_Histo:
		return kindHisto
	case *tbpb.Summary_Value_Image:
		return kindImage
	case *tbpb.Summary_Value_Audio:
		return kindAudio
	case *tbpb.Summary_Value_ObsoleteOldStyleHistogram:
		return kindOldHisto
	}
	return kindNone
}

// pluginDataClass is the data class TensorBoard gives a legacy series of a
// known plugin (tensorboard/dataclass_compat.py, _migrate_*_value).
func pluginDataClass(plugin string) tbpb.DataClass {
	switch plugin {
	case "scalars":
		return tbpb.DataClass_DATA_CLASS_SCALAR
	case "histograms", "text", "hparams", "pr_curves", "mesh", "custom_scalars":
		return tbpb.DataClass_DATA_CLASS_TENSOR
	case "images", "audio", "graph_run_metadata", "graph_run_metadata_graph", "graph_keras_model":
		return tbpb.DataClass_DATA_CLASS_BLOB_SEQUENCE
	}
	return tbpb.DataClass_DATA_CLASS_UNKNOWN
}

// formatFloat32 prints the shortest decimal that reads back as the same
// float32: "0.05", "NaN", "+Inf".
func formatFloat32(f float32) string {
	return strconv.FormatFloat(float64(f), 'g', -1, 32)
}

// formatFloat64 prints the shortest decimal that reads back as the same
// float64.
func formatFloat64(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// formatShort prints f with at most 6 significant digits, for summaries of
// histograms where the exact value is noise.
func formatShort(f float64) string {
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// cleanErr normalizes an error text for display: protobuf-go puts a
// non-breaking space after "proto:" in some builds (internal/detrand), which
// would make the output depend on the binary.
func cleanErr(s string) string {
	return strings.ReplaceAll(s, "\u00a0", " ")
}

// displayTag returns tag as is when it is plain printable text without
// spaces, and quoted otherwise, so that odd tags cannot break the layout.
func displayTag(tag string) string {
	if tag == "" || strings.IndexFunc(tag, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }) >= 0 || !utf8.ValidString(tag) {
		return strconv.Quote(tag)
	}
	return tag
}

// quoteText quotes s for one-line display, cut to maxText runes.
func quoteText(s string) string {
	r := []rune(s)
	if len(r) > maxText {
		return strconv.Quote(string(r[:maxText])) + "…"
	}
	return strconv.Quote(s)
}

// scalarOf returns the number a value holds when it is a scalar: a
// simple_value, or a one-element DT_FLOAT/DT_DOUBLE/DT_HALF-free numeric tensor
// (the form tensor-based scalar summaries use).
func scalarOf(v *tbpb.Summary_Value) (float64, bool) {
	if s, ok := v.GetValue().(*tbpb.Summary_Value_SimpleValue); ok {
		return float64(s.SimpleValue), true
	}
	t := v.GetTensor()
	if t == nil || numElements(t) != 1 {
		return 0, false
	}
	c := t.GetTensorContent()
	switch t.GetDtype() {
	case tbpb.DataType_DT_FLOAT:
		if len(t.GetFloatVal()) > 0 {
			return float64(t.GetFloatVal()[0]), true
		}
		if len(c) == 4 {
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(c))), true
		}
	case tbpb.DataType_DT_DOUBLE:
		if len(t.GetDoubleVal()) > 0 {
			return t.GetDoubleVal()[0], true
		}
		if len(c) == 8 {
			return math.Float64frombits(binary.LittleEndian.Uint64(c)), true
		}
	case tbpb.DataType_DT_INT32:
		if len(t.GetIntVal()) > 0 {
			return float64(t.GetIntVal()[0]), true
		}
	case tbpb.DataType_DT_INT64:
		if len(t.GetInt64Val()) > 0 {
			return float64(t.GetInt64Val()[0]), true
		}
	}
	return 0, false
}

// numElements is the product of t's dimensions (1 for rank 0).
func numElements(t *tbpb.TensorProto) int64 {
	n := int64(1)
	for _, d := range t.GetTensorShape().GetDim() {
		n *= d.GetSize()
	}
	return n
}

// shapeString prints a tensor shape as "[2 3]"; rank 0 is "[]".
func shapeString(t *tbpb.TensorProto) string {
	dims := make([]string, 0, len(t.GetTensorShape().GetDim()))
	for _, d := range t.GetTensorShape().GetDim() {
		dims = append(dims, strconv.FormatInt(d.GetSize(), 10))
	}
	return "[" + strings.Join(dims, " ") + "]"
}

// imageFormat guesses an encoded image's format from its magic bytes.
func imageFormat(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")): // PNG signature, RFC 2083 section 3.1
		return "png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}): // JPEG SOI marker + next marker
		return "jpeg"
	case bytes.HasPrefix(b, []byte("GIF8")): // GIF87a / GIF89a
		return "gif"
	}
	return "unknown"
}

// describeValue renders v on one line, deterministically. plugin is the tag's
// plugin (from this value's metadata or the first metadata of the tag).
func describeValue(v *tbpb.Summary_Value, plugin string) string {
	if s, ok := describeKind(v, plugin); ok {
		return s
	}
	if f, ok := scalarOf(v); ok {
		if _, simple := v.GetValue().(*tbpb.Summary_Value_SimpleValue); simple {
			return formatFloat32(float32(f))
		}
		t := v.GetTensor()
		if t.GetDtype() == tbpb.DataType_DT_FLOAT {
			return formatFloat32(float32(f))
		}
		return formatFloat64(f) + " (" + t.GetDtype().String() + ")"
	}
	switch x := v.GetValue().(type) {
	case *tbpb.Summary_Value_Histo:
		h := x.Histo
		return fmt.Sprintf("n=%s min=%s max=%s buckets=%d",
			formatShort(h.GetNum()), formatShort(h.GetMin()), formatShort(h.GetMax()), len(h.GetBucket()))
	case *tbpb.Summary_Value_Image:
		im := x.Image
		return fmt.Sprintf("%dx%d colorspace=%d %s %dB", im.GetWidth(), im.GetHeight(),
			im.GetColorspace(), imageFormat(im.GetEncodedImageString()), len(im.GetEncodedImageString()))
	case *tbpb.Summary_Value_Audio:
		a := x.Audio
		return fmt.Sprintf("%sHz channels=%d frames=%d %q %dB", formatFloat32(a.GetSampleRate()),
			a.GetNumChannels(), a.GetLengthFrames(), a.GetContentType(), len(a.GetEncodedAudioString()))
	case *tbpb.Summary_Value_ObsoleteOldStyleHistogram:
		return fmt.Sprintf("%dB", len(x.ObsoleteOldStyleHistogram))
	}
	if plugin == "hparams" {
		if pd := v.GetMetadata().GetPluginData(); pd.GetPluginName() == "hparams" {
			return describeHParams(pd.GetContent())
		}
	}
	if t := v.GetTensor(); t != nil {
		return describeTensor(t)
	}
	return "(no value)"
}

// describeTensor renders a non-scalar tensor: strings are shown quoted,
// everything else by dtype and shape.
func describeTensor(t *tbpb.TensorProto) string {
	if t.GetDtype() == tbpb.DataType_DT_STRING {
		sv := t.GetStringVal()
		if len(sv) == 1 {
			return quoteText(string(sv[0]))
		}
		return fmt.Sprintf("DT_STRING %s (%d strings)", shapeString(t), len(sv))
	}
	return fmt.Sprintf("%s %s", t.GetDtype(), shapeString(t))
}

// describeHParams renders the content of an hparams plugin value: what the
// HParamsPluginData message (tensorboard/plugins/hparams/plugin_data.proto)
// holds.
func describeHParams(content []byte) string {
	var d tbpb.HParamsPluginData
	if err := proto.Unmarshal(content, &d); err != nil {
		return "undecodable hparams content: " + cleanErr(err.Error())
	}
	switch x := d.GetData().(type) {
	case *tbpb.HParamsPluginData_Experiment:
		names := make([]string, 0, len(x.Experiment.GetHparamInfos()))
		for _, h := range x.Experiment.GetHparamInfos() {
			names = append(names, h.GetName())
		}
		metrics := make([]string, 0, len(x.Experiment.GetMetricInfos()))
		for _, m := range x.Experiment.GetMetricInfos() {
			metrics = append(metrics, m.GetName().GetGroup()+m.GetName().GetTag())
		}
		return fmt.Sprintf("experiment: hparams [%s] metrics [%s]",
			strings.Join(names, " "), strings.Join(metrics, " "))
	case *tbpb.HParamsPluginData_SessionStartInfo:
		hp := x.SessionStartInfo.GetHparams()
		keys := make([]string, 0, len(hp))
		for k := range hp {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+"="+structValueString(hp[k]))
		}
		return "session start: " + strings.Join(parts, " ")
	case *tbpb.HParamsPluginData_SessionEndInfo:
		return "session end: " + x.SessionEndInfo.GetStatus().String()
	}
	return "empty hparams content"
}

// structValueString renders an hparam value: numbers shortest-exact, strings
// quoted, booleans as true/false.
func structValueString(v *structpb.Value) string {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return formatFloat64(k.NumberValue)
	case *structpb.Value_StringValue:
		return quoteText(k.StringValue)
	case *structpb.Value_BoolValue:
		return strconv.FormatBool(k.BoolValue)
	case *structpb.Value_NullValue:
		return "null"
	}
	return "?"
}
