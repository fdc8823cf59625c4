package tbwriter

import (
	"fmt"
	"unicode/utf8"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Text plugin facts, from tensorboard/plugins/text/metadata.py:
// PLUGIN_NAME = "text", PROTO_VERSION = 0 (TextPluginData{version: 0} is
// empty on the wire); summary_v2.text_pb stores the markdown as a DT_STRING
// tensor, and dataclass_compat.py gives text series DATA_CLASS_TENSOR.
const textPluginName = "text"

// TextMetadata returns the SummaryMetadata of a text-plugin summary.
func TextMetadata() *tbpb.SummaryMetadata {
	return &tbpb.SummaryMetadata{
		PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: textPluginName},
		DataClass:  tbpb.DataClass_DATA_CLASS_TENSOR,
	}
}

// TextValue returns markdown as a text-plugin value: a rank-0 DT_STRING
// tensor, as TensorBoard's text summary_v2.text_pb writes it.
func TextValue(tag, markdown string) *tbpb.Summary_Value {
	return &tbpb.Summary_Value{
		Tag:      tag,
		Metadata: TextMetadata(),
		Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype:       tbpb.DataType_DT_STRING,
			TensorShape: &tbpb.TensorShapeProto{},
			StringVal:   [][]byte{[]byte(markdown)},
		}},
	}
}

// AddText logs markdown text under tag at step (TensorBoard's Text tab
// renders it). The text must be valid UTF-8: TensorBoard's text plugin
// decodes every string of a tag as UTF-8 and fails the whole tag on one
// that is not. Text longer than MaxRecordSize is refused (ErrRecordTooLarge)
// before it is copied.
func (w *Writer) AddText(tag string, step int64, markdown string) error {
	if len(markdown) > MaxRecordSize {
		return fmt.Errorf("%w: text %q of %d bytes (limit %d)", ErrRecordTooLarge, tag, len(markdown), MaxRecordSize)
	}
	if !utf8.ValidString(markdown) {
		return fmt.Errorf("tbwriter: text %q is not valid UTF-8", tag)
	}
	return w.AddSummary(step, TextValue(tag, markdown))
}

// TextOf returns the strings of a DT_STRING tensor value, and whether v is one.
func TextOf(v *tbpb.Summary_Value) ([]string, bool) {
	t := v.GetTensor()
	if t.GetDtype() != tbpb.DataType_DT_STRING {
		return nil, false
	}
	out := make([]string, len(t.StringVal))
	for i, s := range t.StringVal {
		out[i] = string(s)
	}
	return out, true
}
