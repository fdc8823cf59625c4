package ptfile

import (
	"fmt"
	"reflect"
	"slices"
)

// A decoded pickle is a tree of these Go values:
//
//	Python                    Go
//	dict, OrderedDict         *Dict (Ordered tells which)
//	list, tuple               []any
//	str                       string
//	int                       int64 (larger integers are an error)
//	float                     float64
//	bool                      bool
//	None                      nil
//	torch.Tensor, Parameter   *Tensor
//
// Encode accepts the same tree.

// Dict is a Python dict or collections.OrderedDict: its entries in insertion
// order. The zero value is an empty dict.
type Dict struct {
	// Ordered is true for a collections.OrderedDict (a state_dict), false
	// for a plain dict.
	Ordered bool
	keys    []any
	vals    []any
	index_  map[any]int // position of each key of a comparable kind
}

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []any { return slices.Clone(d.keys) }

// Get returns the value of key and whether it is present.
func (d *Dict) Get(key any) (any, bool) {
	if i := d.index(key); i >= 0 {
		return d.vals[i], true
	}
	return nil, false
}

// Set sets key to v; a new key goes last, an existing one keeps its place
// (as in Python).
func (d *Dict) Set(key, v any) {
	if i := d.index(key); i >= 0 {
		d.vals[i] = v
		return
	}
	if scalarKey(key) {
		if d.index_ == nil {
			d.index_ = map[any]int{}
		}
		d.index_[key] = len(d.keys)
	}
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, v)
}

// scalarKey reports whether key is of a kind that Go compares like Python
// does (and that a map can hold).
func scalarKey(key any) bool {
	switch key.(type) {
	case nil, string, int64, bool, float64:
		return true
	}
	return false
}

func (d *Dict) index(key any) int {
	if scalarKey(key) {
		if i, ok := d.index_[key]; ok {
			return i
		}
		return -1
	}
	for i, k := range d.keys {
		if !scalarKey(k) && reflect.DeepEqual(k, key) {
			return i
		}
	}
	return -1
}

// Tensor is a dense tensor in row-major order.
type Tensor struct {
	// DType is the element type, named as PyTorch names it: "float32",
	// "float64", "int64", ... (from the storage type of the file).
	DType string
	// Shape lists the dimension sizes, outermost first.
	Shape []int
	// Data holds the elements of a floating-point tensor as float32: those
	// of a float32 tensor bit for bit, float16 and bfloat16 ones exactly,
	// float64 ones rounded to the nearest float32 (what PyTorch's
	// load_state_dict into a float32 model does). Nil for integer and bool
	// tensors, which this package reads only as far as their shape.
	Data []float32
}

// Numel returns the number of elements (the product of Shape).
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// NamedTensor is one entry of a state_dict.
type NamedTensor struct {
	Name   string
	Tensor *Tensor
}

// Spec is the name and shape of a tensor a model expects.
type Spec struct {
	Name  string
	Shape []int
}

// Match compares a state_dict with the tensors a model expects, by name and
// shape (the order does not matter, as in load_state_dict), and returns a
// *MismatchError listing every missing, unexpected and mis-shaped (or not
// floating-point) tensor, or nil. float64, float16 and bfloat16 tensors
// match, converted to float32 (see [Tensor]). On success the state_dict's
// tensors are returned in the order of want.
func Match(got []NamedTensor, want []Spec) ([]*Tensor, error) {
	byName := map[string]*Tensor{}
	var e MismatchError
	for _, nt := range got {
		byName[nt.Name] = nt.Tensor
	}
	wanted := map[string]bool{}
	out := make([]*Tensor, len(want))
	for i, w := range want {
		wanted[w.Name] = true
		t, ok := byName[w.Name]
		switch {
		case !ok:
			e.Missing = append(e.Missing, w.Name)
		case !slices.Equal(t.Shape, w.Shape):
			e.Shape = append(e.Shape, fmt.Sprintf("%s: file %v, model %v", w.Name, t.Shape, w.Shape))
		case floatDecoders[t.DType] == nil:
			e.Shape = append(e.Shape, fmt.Sprintf("%s: file %s, model float32 (not a floating-point tensor)", w.Name, t.DType))
		case len(t.Data) != t.Numel():
			e.Shape = append(e.Shape, fmt.Sprintf("%s: %d values for the shape %v", w.Name, len(t.Data), t.Shape))
		default:
			out[i] = t
		}
	}
	for _, nt := range got {
		if !wanted[nt.Name] {
			e.Unexpected = append(e.Unexpected, nt.Name)
		}
	}
	if len(e.Missing)+len(e.Unexpected)+len(e.Shape) > 0 {
		return nil, &e
	}
	return out, nil
}
