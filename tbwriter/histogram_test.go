package tbwriter

import (
	"encoding/binary"
	"math"
	"runtime"
	"testing"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// histTensor is a histogram-shaped tensor value with the given shape and
// content, as a file written by someone else may hold.
func histTensor(dtype tbpb.DataType, dims []int64, content []byte, doubles []float64, floats []float32) *tbpb.Summary_Value {
	shape := &tbpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &tbpb.TensorShapeProto_Dim{Size: d})
	}
	return &tbpb.Summary_Value{Tag: "h", Metadata: HistogramMetadata(), Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
		Dtype: dtype, TensorShape: shape, TensorContent: content, DoubleVal: doubles, FloatVal: floats,
	}}}
}

// allocatedBy returns the bytes f allocates on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHistogramOfHostileShapes: the shape of a histogram tensor comes from
// the file. A negative or huge first dimension must be refused (ok false),
// without a panic and without allocating for the claimed size: the shape is
// checked against the numbers actually present.
func TestHistogramOfHostileShapes(t *testing.T) {
	six := binary.LittleEndian.AppendUint64(nil, math.Float64bits(0))
	for range 5 {
		six = binary.LittleEndian.AppendUint64(six, math.Float64bits(1))
	}
	cases := []struct {
		name string
		v    *tbpb.Summary_Value
	}{
		{"negative rows", histTensor(tbpb.DataType_DT_DOUBLE, []int64{-1, 3}, six, nil, nil)},
		{"2^61 rows", histTensor(tbpb.DataType_DT_DOUBLE, []int64{1 << 61, 3}, six, nil, nil)},
		{"2^62 rows float", histTensor(tbpb.DataType_DT_FLOAT, []int64{1 << 62, 3}, nil, nil, []float32{1, 2, 3})},
		{"max int64 rows", histTensor(tbpb.DataType_DT_DOUBLE, []int64{math.MaxInt64, 3}, nil, []float64{1, 2, 3}, nil)},
		{"min int64 rows", histTensor(tbpb.DataType_DT_DOUBLE, []int64{math.MinInt64, 3}, nil, []float64{1, 2, 3}, nil)},
		{"2^22 rows, 2 present", histTensor(tbpb.DataType_DT_DOUBLE, []int64{1 << 22, 3}, six, nil, nil)},
		{"3 rows, 2 present", histTensor(tbpb.DataType_DT_DOUBLE, []int64{3, 3}, six, nil, nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var (
				ok       bool
				panicked any
			)
			n := allocatedBy(func() {
				defer func() { panicked = recover() }()
				_, ok = HistogramOf(tc.v)
			})
			if panicked != nil {
				t.Fatalf("HistogramOf panicked: %v", panicked)
			}
			if ok {
				t.Errorf("HistogramOf accepted a shape its data does not fill")
			}
			if n > 64<<10 {
				t.Errorf("HistogramOf allocated %d bytes for a 48-byte tensor", n)
			}
		})
	}
	// The honest shape still decodes.
	b, ok := HistogramOf(histTensor(tbpb.DataType_DT_DOUBLE, []int64{2, 3}, six, nil, nil))
	if !ok || len(b) != 2 || b[0] != (Bucket{0, 1, 1}) || b[1] != (Bucket{1, 1, 1}) {
		t.Errorf("HistogramOf([2 3]) = %v, %v", b, ok)
	}
}

// FuzzHistogramOf decodes histogram tensors of arbitrary shape and content:
// no panic, and a success returns exactly as many buckets as the data holds
// rows for (never more than the data can fill).
func FuzzHistogramOf(f *testing.F) {
	f.Add(int32(tbpb.DataType_DT_DOUBLE), int64(2), int64(3), make([]byte, 48), 0)
	f.Add(int32(tbpb.DataType_DT_DOUBLE), int64(-1), int64(3), make([]byte, 48), 0)
	f.Add(int32(tbpb.DataType_DT_FLOAT), int64(1<<61), int64(3), []byte{}, 3)
	f.Add(int32(tbpb.DataType_DT_FLOAT), int64(1), int64(3), make([]byte, 12), 0)
	f.Fuzz(func(t *testing.T, dtype int32, rows, cols int64, content []byte, nvals int) {
		nvals = min(max(nvals, 0), 1024)
		v := histTensor(tbpb.DataType(dtype), []int64{rows, cols}, content, make([]float64, nvals), make([]float32, nvals))
		buckets, ok := HistogramOf(v)
		if !ok {
			return
		}
		if int64(len(buckets)) != rows || cols != 3 {
			t.Fatalf("shape [%d %d]: %d buckets", rows, cols, len(buckets))
		}
		if 3*len(buckets) > max(len(content), 8*nvals) {
			t.Fatalf("%d buckets from %d content bytes and %d values", len(buckets), len(content), nvals)
		}
	})
}
