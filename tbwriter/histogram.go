package tbwriter

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Histograms plugin facts, from tensorboard/plugins/histogram/metadata.py
// (PLUGIN_NAME = "histograms", PROTO_VERSION = 0), dataclass_compat.py (a
// histogram series has DATA_CLASS_TENSOR) and summary_v2.py (DEFAULT_BUCKET_COUNT = 30; a histogram is a [k, 3] float64
// tensor of rows [left_edge, right_edge, count]).
const (
	histogramsPluginName = "histograms"

	// DefaultHistogramBuckets is the bucket count of AddHistogram, the
	// DEFAULT_BUCKET_COUNT of TensorBoard's histogram summary_v2.py.
	DefaultHistogramBuckets = 30
)

// Bucket is one histogram bucket: Count values in [Left, Right) (the last
// bucket also holds Right).
type Bucket struct {
	Left, Right, Count float64
}

// HistogramBuckets groups values the way TensorBoard's histogram_pb
// (plugins/histogram/summary_v2.py) does: n equal-width buckets from the
// minimum to the maximum, index floor((x-min)/width) clamped to n-1, the
// last right edge exactly the maximum. The two edge cases follow the older
// histogram_pb (current TensorBoard always emits n rows instead: all edges x
// with the count in the last row, or n zero rows; its loaders read both
// forms): all values equal gives one bucket [x-0.5, x+0.5], no values gives
// none. NaN and ±Inf values are skipped
// (they have no place on a finite axis). n < 1 means DefaultHistogramBuckets.
func HistogramBuckets(values []float32, n int) []Bucket {
	if n < 1 {
		n = DefaultHistogramBuckets
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	count := 0
	for _, v := range values {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
		count++
	}
	if count == 0 {
		return nil
	}
	if lo == hi {
		return []Bucket{{Left: lo - 0.5, Right: lo + 0.5, Count: float64(count)}}
	}
	width := (hi - lo) / float64(n)
	b := make([]Bucket, n)
	for _, v := range values {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		i := int(math.Floor((x - lo) / width))
		b[min(i, n-1)].Count++
	}
	// Edges as numpy.linspace(lo, hi, n+1): lo + i*step, last exactly hi.
	// The product is rounded before the sum (an explicit conversion), as
	// numpy does; otherwise compilers that fuse, as on arm64, would give
	// other edges than amd64.
	for i := range b {
		b[i].Left = lo + float64(float64(i)*width)
		b[i].Right = lo + float64(float64(i+1)*width)
	}
	b[n-1].Right = hi
	return b
}

// HistogramMetadata returns the SummaryMetadata of a histograms-plugin
// summary (plugin "histograms", content version 0 (empty), DATA_CLASS_TENSOR).
func HistogramMetadata() *tbpb.SummaryMetadata {
	return &tbpb.SummaryMetadata{
		PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: histogramsPluginName},
		DataClass:  tbpb.DataClass_DATA_CLASS_TENSOR,
	}
}

// HistogramValue returns buckets as a histograms-plugin summary value: a
// [k, 3] DT_DOUBLE tensor with little-endian tensor_content, as
// tensor_util.make_tensor_proto builds it for TensorBoard's histogram_pb.
func HistogramValue(tag string, buckets []Bucket) *tbpb.Summary_Value {
	content := make([]byte, 0, 24*len(buckets))
	for _, b := range buckets {
		content = binary.LittleEndian.AppendUint64(content, math.Float64bits(b.Left))
		content = binary.LittleEndian.AppendUint64(content, math.Float64bits(b.Right))
		content = binary.LittleEndian.AppendUint64(content, math.Float64bits(b.Count))
	}
	return &tbpb.Summary_Value{
		Tag:      tag,
		Metadata: HistogramMetadata(),
		Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_DOUBLE,
			TensorShape: &tbpb.TensorShapeProto{Dim: []*tbpb.TensorShapeProto_Dim{
				{Size: int64(len(buckets))}, {Size: 3},
			}},
			TensorContent: content,
		}},
	}
}

// AddHistogram logs the distribution of values under tag at step, bucketed
// by HistogramBuckets with DefaultHistogramBuckets buckets.
func (w *Writer) AddHistogram(tag string, step int64, values []float32) error {
	return w.AddSummary(step, HistogramValue(tag, HistogramBuckets(values, DefaultHistogramBuckets)))
}

// AddHistogramBuckets logs a histogram from pre-computed buckets. Buckets
// must be in increasing order with Left <= Right and Count >= 0.
func (w *Writer) AddHistogramBuckets(tag string, step int64, buckets []Bucket) error {
	for i, b := range buckets {
		if !(b.Left <= b.Right) || !(b.Count >= 0) || (i > 0 && b.Left < buckets[i-1].Right) {
			return fmt.Errorf("tbwriter: histogram %q: bad bucket %d: %+v", tag, i, b)
		}
	}
	return w.AddSummary(step, HistogramValue(tag, buckets))
}

// HistogramOf decodes the buckets of a histogram summary value in either
// form: a [k, 3] tensor (DT_DOUBLE or DT_FLOAT, tensor_content or repeated
// values) or a legacy HistogramProto, converted the way TensorBoard's
// data_compat.py does (empty buckets at both ends dropped, min as the first
// left edge, max as the last right edge). ok is false for anything else.
func HistogramOf(v *tbpb.Summary_Value) (buckets []Bucket, ok bool) {
	switch x := v.GetValue().(type) {
	case *tbpb.Summary_Value_Histo:
		h := x.Histo
		n := len(h.Bucket)
		if len(h.BucketLimit) != n {
			return nil, false
		}
		start, end := 0, n-1
		for start < n && h.Bucket[start] <= 0 {
			start++
		}
		for end >= 0 && h.Bucket[end] <= 0 {
			end--
		}
		for i := start; i <= end; i++ {
			left := h.Min
			if i > start {
				left = h.BucketLimit[i-1]
			}
			right := h.BucketLimit[i]
			if i == end {
				right = h.Max
			}
			buckets = append(buckets, Bucket{Left: left, Right: right, Count: h.Bucket[i]})
		}
		return buckets, true
	case *tbpb.Summary_Value_Tensor:
		t := x.Tensor
		dims := t.GetTensorShape().GetDim()
		if len(dims) != 2 || dims[1].GetSize() != 3 {
			return nil, false
		}
		// The shape comes from the file: check it against the numbers
		// actually present before computing 3*k or allocating.
		k := dims[0].GetSize()
		if k < 0 || k > int64(tensorLen(t)/3) {
			return nil, false
		}
		vals, ok := tensorFloats(t, 3*int(k))
		if !ok {
			return nil, false
		}
		buckets = make([]Bucket, 0, k)
		for i := range int(k) {
			buckets = append(buckets, Bucket{Left: vals[3*i], Right: vals[3*i+1], Count: vals[3*i+2]})
		}
		return buckets, true
	}
	return nil, false
}

// tensorLen is the number of numbers a float or double tensor holds: its
// tensor_content or its repeated values, whichever is set (0 for other
// dtypes).
func tensorLen(t *tbpb.TensorProto) int {
	switch t.GetDtype() {
	case tbpb.DataType_DT_DOUBLE:
		return max(len(t.GetTensorContent())/8, len(t.GetDoubleVal()))
	case tbpb.DataType_DT_FLOAT:
		return max(len(t.GetTensorContent())/4, len(t.GetFloatVal()))
	}
	return 0
}

// tensorFloats returns the n numbers of a float or double tensor; n must
// not exceed tensorLen(t).
func tensorFloats(t *tbpb.TensorProto, n int) ([]float64, bool) {
	if n < 0 || n > tensorLen(t) {
		return nil, false
	}
	out := make([]float64, 0, n)
	switch t.GetDtype() {
	case tbpb.DataType_DT_DOUBLE:
		if len(t.TensorContent) == 8*n {
			for i := range n {
				out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(t.TensorContent[8*i:])))
			}
			return out, true
		}
		if len(t.DoubleVal) == n {
			return append(out, t.DoubleVal...), true
		}
	case tbpb.DataType_DT_FLOAT:
		if len(t.TensorContent) == 4*n {
			for i := range n {
				out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(t.TensorContent[4*i:]))))
			}
			return out, true
		}
		if len(t.FloatVal) == n {
			for _, f := range t.FloatVal {
				out = append(out, float64(f))
			}
			return out, true
		}
	}
	return nil, n == 0
}
