package tbwriter

import (
	"math"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Scalars plugin facts, from tensorboard/plugins/scalar/metadata.py:
// PLUGIN_NAME = "scalars" and PROTO_VERSION = 0. The plugin's content is a
// serialized ScalarPluginData{version: 0}, which is empty on the wire
// (proto3 omits a zero field).
const (
	scalarsPluginName = "scalars"
)

// ScalarMetadata returns the SummaryMetadata of a scalars-plugin tensor
// summary (plugin "scalars", content version 0, DATA_CLASS_SCALAR).
func ScalarMetadata() *tbpb.SummaryMetadata {
	return &tbpb.SummaryMetadata{
		PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: scalarsPluginName},
		DataClass:  tbpb.DataClass_DATA_CLASS_SCALAR,
	}
}

// ScalarValue returns the summary value that AddScalar writes: a float32
// simple_value with no metadata (TensorBoard's loaders assign it to the
// scalars plugin).
func ScalarValue(tag string, v float32) *tbpb.Summary_Value {
	return &tbpb.Summary_Value{Tag: tag, Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: v}}
}

// ScalarTensorValue returns v as a rank-0 DT_FLOAT tensor with the scalars
// plugin metadata: the form tf.summary.scalar (summary_v2) writes, but
// always float32. It is never DT_DOUBLE, which TensorBoard's Rust data
// server drops (tensor_proto_to_scalar in tensorboard/data/server/data_compat.rs
// accepts only a rank-0 DT_FLOAT).
func ScalarTensorValue(tag string, v float32) *tbpb.Summary_Value {
	return &tbpb.Summary_Value{
		Tag:      tag,
		Metadata: ScalarMetadata(),
		Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype:       tbpb.DataType_DT_FLOAT,
			TensorShape: &tbpb.TensorShapeProto{},
			FloatVal:    []float32{v},
		}},
	}
}

// AddScalarTensor logs v under tag at step in the tensor form of
// ScalarTensorValue. AddScalar is cheaper; both display the same.
func (w *Writer) AddScalarTensor(tag string, step int64, v float32) error {
	return w.AddSummary(step, ScalarTensorValue(tag, v))
}

// ScalarOf returns the scalar a summary value holds, in either form
// (simple_value, or a one-element DT_FLOAT / DT_DOUBLE tensor), and whether
// it holds one.
func ScalarOf(v *tbpb.Summary_Value) (float64, bool) {
	switch x := v.GetValue().(type) {
	case *tbpb.Summary_Value_SimpleValue:
		return float64(x.SimpleValue), true
	case *tbpb.Summary_Value_Tensor:
		t := x.Tensor
		switch t.GetDtype() {
		case tbpb.DataType_DT_FLOAT:
			if len(t.FloatVal) == 1 {
				return float64(t.FloatVal[0]), true
			}
			if len(t.TensorContent) == 4 {
				return float64(math.Float32frombits(le32(t.TensorContent))), true
			}
		case tbpb.DataType_DT_DOUBLE:
			if len(t.DoubleVal) == 1 {
				return t.DoubleVal[0], true
			}
			if len(t.TensorContent) == 8 {
				return math.Float64frombits(le64(t.TensorContent)), true
			}
		}
	}
	return 0, false
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func le64(b []byte) uint64 {
	return uint64(le32(b)) | uint64(le32(b[4:]))<<32
}
