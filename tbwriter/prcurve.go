package tbwriter

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// PR curves plugin facts, from tensorboard/plugins/pr_curve/metadata.py:
// PLUGIN_NAME = "pr_curves", PROTO_VERSION = 0, and the row order of the
// [6, num_thresholds] tensor (TRUE_POSITIVES_INDEX = 0 ... RECALL_INDEX = 5).
// dataclass_compat.py gives pr_curves series DATA_CLASS_TENSOR.
const (
	prCurvesPluginName = "pr_curves"

	// DefaultPRThresholds is the number of thresholds AddPRCurve uses when
	// given 0: 127, the default num_thresholds of PyTorch's add_pr_curve
	// (torch/utils/tensorboard/writer.py).
	DefaultPRThresholds = 127

	// MaxPRThresholds bounds numThresholds: 10,000 thresholds make a
	// 240 kB tensor, far more resolution than a chart has pixels.
	MaxPRThresholds = 10000

	// prMinimumCount is the floor of the precision and recall
	// denominators, _MINIMUM_COUNT = 1e-7 in compute_curve of
	// torch/utils/tensorboard/summary.py (TensorBoard's
	// plugins/pr_curve/summary.py uses the same constant).
	prMinimumCount = 1e-7
)

// PRCounts is a precision-recall curve: six columns of equal length, one
// entry per threshold i/(n-1) for i = 0..n-1, with n >= 2. Counts are
// numbers of examples (or sums of weights) with a prediction >= the
// threshold (TP, FP) or below it (TN, FN).
type PRCounts struct {
	TP, FP, TN, FN    []float64
	Precision, Recall []float64
}

// Thresholds returns the number of thresholds (the length of TP).
func (c PRCounts) Thresholds() int { return len(c.TP) }

// ComputePRCounts bins predictions the way PyTorch's add_pr_curve (and
// TensorBoard's pr_curve summary) does and returns the curve: prediction p
// falls in bucket floor(p*(n-1)) (computed in float32, as PyTorch does for a
// float32 tensor); TP[i] and FP[i] count the positive and negative examples
// in buckets >= i; TN = FP[0]-FP, FN = TP[0]-TP; precision = TP /
// max(1e-7, TP+FP), recall = TP / max(1e-7, TP+FN), all in float64.
//
// It returns an error, instead of PyTorch's silent dropping, for a
// prediction outside [0, 1] or NaN, for len(labels) != len(predictions),
// for no examples, and for numThresholds outside [2, MaxPRThresholds]
// (0 means DefaultPRThresholds). Unlike PyTorch, which silently lowers
// numThresholds above 127 to 127, any n up to MaxPRThresholds is used as given.
func ComputePRCounts(labels []bool, predictions []float32, numThresholds int) (PRCounts, error) {
	n := numThresholds
	if n == 0 {
		n = DefaultPRThresholds
	}
	if n < 2 || n > MaxPRThresholds {
		return PRCounts{}, fmt.Errorf("tbwriter: PR curve: %d thresholds, want 2..%d", numThresholds, MaxPRThresholds)
	}
	if len(labels) != len(predictions) {
		return PRCounts{}, fmt.Errorf("tbwriter: PR curve: %d labels but %d predictions", len(labels), len(predictions))
	}
	if len(labels) == 0 {
		return PRCounts{}, fmt.Errorf("tbwriter: PR curve: no examples")
	}
	tpb := make([]float64, n)
	fpb := make([]float64, n)
	scale := float32(n - 1)
	for i, p := range predictions {
		if !(p >= 0 && p <= 1) {
			return PRCounts{}, fmt.Errorf("tbwriter: PR curve: prediction %d is %v, want a probability in [0, 1]", i, p)
		}
		b := int(math.Floor(float64(p * scale))) // float32 product, as numpy computes it
		if labels[i] {
			tpb[b]++
		} else {
			fpb[b]++
		}
	}
	c := PRCounts{
		TP: make([]float64, n), FP: make([]float64, n), TN: make([]float64, n), FN: make([]float64, n),
		Precision: make([]float64, n), Recall: make([]float64, n),
	}
	var tp, fp float64
	for i := n - 1; i >= 0; i-- { // reverse cumulative sums
		tp += tpb[i]
		fp += fpb[i]
		c.TP[i], c.FP[i] = tp, fp
	}
	for i := range n {
		c.TN[i] = c.FP[0] - c.FP[i]
		c.FN[i] = c.TP[0] - c.TP[i]
		c.Precision[i] = c.TP[i] / math.Max(prMinimumCount, c.TP[i]+c.FP[i])
		c.Recall[i] = c.TP[i] / math.Max(prMinimumCount, c.TP[i]+c.FN[i])
	}
	return c, nil
}

// validate checks the shape and values of raw counts.
func (c PRCounts) validate() error {
	n := len(c.TP)
	if n < 2 || n > MaxPRThresholds {
		return fmt.Errorf("tbwriter: PR curve: %d thresholds, want 2..%d", n, MaxPRThresholds)
	}
	cols := []struct {
		name string
		v    []float64
		max  float64
	}{
		{"TP", c.TP, math.MaxFloat32}, {"FP", c.FP, math.MaxFloat32}, {"TN", c.TN, math.MaxFloat32},
		{"FN", c.FN, math.MaxFloat32}, {"Precision", c.Precision, 1}, {"Recall", c.Recall, 1},
	}
	for _, col := range cols {
		if len(col.v) != n {
			return fmt.Errorf("tbwriter: PR curve: %s has %d entries, TP has %d", col.name, len(col.v), n)
		}
		for i, x := range col.v {
			if !(x >= 0 && x <= col.max) {
				return fmt.Errorf("tbwriter: PR curve: %s[%d] = %v, want 0..%g", col.name, i, x, col.max)
			}
		}
	}
	return nil
}

// PRCurveMetadata returns the SummaryMetadata of a pr_curves summary with n
// thresholds.
func PRCurveMetadata(n int) *tbpb.SummaryMetadata {
	content, err := proto.Marshal(&tbpb.PrCurvePluginData{Version: 0, NumThresholds: uint32(n)})
	if err != nil {
		panic("tbwriter: marshal PrCurvePluginData: " + err.Error()) // no strings: cannot fail
	}
	return &tbpb.SummaryMetadata{
		PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: prCurvesPluginName, Content: content},
		DataClass:  tbpb.DataClass_DATA_CLASS_TENSOR,
	}
}

// PRCurveValue returns c as a pr_curves summary value: a DT_FLOAT tensor of
// shape [6, n] (rows TP, FP, TN, FN, precision, recall, each rounded to
// float32 as PyTorch's float_val does) with PrCurvePluginData metadata. It
// returns an error for columns of different lengths, fewer than 2
// thresholds, negative or non-finite counts, and precision or recall
// outside [0, 1].
func PRCurveValue(tag string, c PRCounts) (*tbpb.Summary_Value, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%w (tag %q)", err, tag)
	}
	n := len(c.TP)
	content := make([]byte, 0, 4*6*n)
	for _, col := range [][]float64{c.TP, c.FP, c.TN, c.FN, c.Precision, c.Recall} {
		for _, x := range col {
			content = binary.LittleEndian.AppendUint32(content, math.Float32bits(float32(x)))
		}
	}
	return &tbpb.Summary_Value{
		Tag:      tag,
		Metadata: PRCurveMetadata(n),
		Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_FLOAT,
			TensorShape: &tbpb.TensorShapeProto{Dim: []*tbpb.TensorShapeProto_Dim{
				{Size: 6}, {Size: int64(n)},
			}},
			TensorContent: content,
		}},
	}, nil
}

// AddPRCurve logs the precision-recall curve of a binary classifier under
// tag at step: labels[i] is whether example i is positive, predictions[i]
// its predicted probability of being positive. numThresholds 0 means
// DefaultPRThresholds (127). The numbers are PyTorch's add_pr_curve's for
// the same inputs (see ComputePRCounts, which also lists the errors).
func (w *Writer) AddPRCurve(tag string, step int64, labels []bool, predictions []float32, numThresholds int) error {
	c, err := ComputePRCounts(labels, predictions, numThresholds)
	if err != nil {
		return fmt.Errorf("%w (tag %q)", err, tag)
	}
	return w.AddPRCurveRaw(tag, step, c)
}

// AddPRCurveRaw logs a precision-recall curve from counts the caller
// computed (PyTorch's add_pr_curve_raw). See PRCurveValue for the checks.
func (w *Writer) AddPRCurveRaw(tag string, step int64, c PRCounts) error {
	v, err := PRCurveValue(tag, c)
	if err != nil {
		return err
	}
	return w.AddSummary(step, v)
}

// PRCurveOf decodes a pr_curves summary value: a float tensor of shape
// [6, n] with n >= 1, in tensor_content or float_val (PyTorch writes
// float_val). ok is false for anything else.
func PRCurveOf(v *tbpb.Summary_Value) (c PRCounts, ok bool) {
	t := v.GetTensor()
	dims := t.GetTensorShape().GetDim()
	if t == nil || len(dims) != 2 || dims[0].GetSize() != 6 || dims[1].GetSize() < 1 || dims[1].GetSize() > MaxPRThresholds {
		return PRCounts{}, false
	}
	n := int(dims[1].GetSize())
	vals, ok := tensorFloats(t, 6*n)
	if !ok || len(vals) != 6*n {
		return PRCounts{}, false
	}
	c = PRCounts{TP: vals[0:n:n], FP: vals[n : 2*n : 2*n], TN: vals[2*n : 3*n : 3*n],
		FN: vals[3*n : 4*n : 4*n], Precision: vals[4*n : 5*n : 5*n], Recall: vals[5*n:]}
	return c, true
}
