package ptfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// MaxSize is the largest file Load reads (1 GiB); a LeNet-5 checkpoint is
// half a megabyte.
const MaxSize = 1 << 30

// maxPickle bounds data.pkl: the pickle of a state dict holds names and
// small numbers only (the tensors' bytes are separate records).
const maxPickle = 64 << 20

// maxDepth bounds the nesting of the decoded tree (a hostile pickle can build
// deep or cyclic structures through the memo).
const maxDepth = 64

// legacyMagic starts a pre-1.6 torch.save file: the pickle of the magic
// number 0x1950a86a20f9469cfc6c (torch/serialization.py MAGIC_NUMBER) as a
// protocol-2 LONG1: PROTO 2, LONG1 of 10 bytes.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// Load reads a torch.save file and returns the object it holds, as the tree
// of Go values described at [Dict]. No code from the file runs: see the
// package documentation. Errors are *[Error]s naming the file.
func Load(path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Op: "read", Path: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{Op: "read", Path: path, Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Op: "read", Path: path, Err: fmt.Errorf("%w: not a regular file", ErrNotTorchFile)}
	}
	if st.Size() > MaxSize {
		return nil, &Error{Op: "read", Path: path, Err: unsupported("%d bytes, more than the %d this reader accepts", st.Size(), MaxSize)}
	}
	v, err := Decode(f, st.Size())
	if err != nil {
		return nil, &Error{Op: "read", Path: path, Err: err}
	}
	return v, nil
}

// Decode reads a torch.save file of the given size from r; see [Load].
// Its errors wrap the sentinels without naming a file.
func Decode(r io.ReaderAt, size int64) (v any, err error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		head := make([]byte, len(legacyMagic))
		if n, _ := r.ReadAt(head, 0); n == len(head) && bytes.Equal(head, legacyMagic) {
			if size > MaxSize {
				return nil, unsupported("%d bytes, more than the %d this reader accepts", size, MaxSize)
			}
			b, err := readAll(r, size)
			if err != nil {
				return nil, err
			}
			return decodeLegacy(b)
		}
		return nil, fmt.Errorf("%w: %v", ErrNotTorchFile, err)
	}
	a, err := openArchive(zr)
	if err != nil {
		return nil, err
	}
	pkl, err := a.read(a.prefix+"data.pkl", maxPickle)
	if err != nil {
		return nil, err
	}
	if err := scanPickle(pkl); err != nil {
		return nil, err
	}
	// gopickle builds only Go values; a panic inside it on a malformed
	// stream (it was written for well-formed files) is a corrupt file here.
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, corrupt("malformed pickle (%v)", p)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(pkl))
	u.FindClass = findClass
	u.PersistentLoad = a.persistentLoad
	raw, err := u.Load()
	if err != nil {
		var fe *ForbiddenError
		if errors.As(err, &fe) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		return nil, corrupt("pickle: %v", err)
	}
	return plain(raw, 0)
}

// archive is an open torch.save zip file.
type archive struct {
	files     map[string]*zip.File
	prefix    string // "<archive name>/"
	bigEndian bool
	storages  map[string]*storage
	total     int64 // storage bytes read so far
}

func openArchive(zr *zip.Reader) (*archive, error) {
	a := &archive{files: map[string]*zip.File{}, storages: map[string]*storage{}}
	var prefixes []string
	for _, f := range zr.File {
		a.files[f.Name] = f
		if p, ok := strings.CutSuffix(f.Name, "data.pkl"); ok && strings.Count(p, "/") == 1 && strings.HasSuffix(p, "/") {
			prefixes = append(prefixes, p)
		}
	}
	switch len(prefixes) {
	case 0:
		return nil, fmt.Errorf("%w: zip file without <name>/data.pkl", ErrNotTorchFile)
	case 1:
		a.prefix = prefixes[0]
	default:
		return nil, corrupt("zip file with %d data.pkl records %q", len(prefixes), prefixes)
	}
	if _, ok := a.files[a.prefix+"constants.pkl"]; ok {
		return nil, unsupported("a TorchScript archive (torch.jit.save), not a torch.save file")
	}
	if f, ok := a.files[a.prefix+"byteorder"]; ok {
		b, err := a.readFile(f, 16)
		if err != nil {
			return nil, err
		}
		switch string(b) {
		case "little":
		case "big":
			a.bigEndian = true
		default:
			return nil, corrupt("byteorder record %q", b)
		}
	}
	return a, nil
}

func (a *archive) read(name string, limit int64) ([]byte, error) {
	f, ok := a.files[name]
	if !ok {
		return nil, corrupt("no %s record", name)
	}
	return a.readFile(f, limit)
}

func (a *archive) readFile(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, corrupt("record %s holds %d bytes, more than %d", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, corrupt("record %s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, corrupt("record %s: %v", f.Name, err)
	}
	if uint64(len(b)) != f.UncompressedSize64 {
		return nil, corrupt("record %s: %d bytes, header says %d", f.Name, len(b), f.UncompressedSize64)
	}
	return b, nil
}

// storageClass is a torch.<Type>Storage global: it names an element type.
type storageClass struct {
	dtype string
	size  int // bytes per element
}

// storageClasses maps the storage globals of the allow-list to their types
// (torch/storage.py _dtype_to_storage_type_map).
var storageClasses = map[string]storageClass{
	"FloatStorage":    {"float32", 4},
	"DoubleStorage":   {"float64", 8},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
}

// storage is one data/<key> record.
type storage struct {
	class storageClass
	numel int
	raw   []byte
}

// rebuildTensor is torch._utils._rebuild_tensor_v2 (and _rebuild_tensor,
// which takes the first four arguments only).
type rebuildTensor struct{ minArgs int }

// rebuildParameter is torch._utils._rebuild_parameter: (data, requires_grad,
// backward_hooks) -> data as a Parameter; here the tensor itself.
type rebuildParameter struct{}

var (
	_ types.Callable = rebuildTensor{}
	_ types.Callable = rebuildParameter{}
)

// findClass resolves the globals that scanPickle let through. It is the
// unpickler's only way to a global outside gopickle's own containers, and it
// returns nothing but the data builders above.
func findClass(module, name string) (any, error) {
	if !allowed[module+"."+name] {
		return nil, &ForbiddenError{Module: module, Name: name, Offset: -1}
	}
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{minArgs: 6}, nil
	case "torch._utils._rebuild_tensor":
		return rebuildTensor{minArgs: 4}, nil
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	}
	if c, ok := storageClasses[name]; ok && module == "torch" {
		return c, nil
	}
	return nil, &ForbiddenError{Module: module, Name: name, Offset: -1}
}

// persistentLoad resolves a BINPERSID: ('storage', storage class, key,
// location, numel), the persistent id torch.save writes for each storage
// (torch/serialization.py _save, persistent_id).
func (a *archive) persistentLoad(id any) (any, error) {
	class, key, numel, err := storageID(id)
	if err != nil {
		return nil, err
	}
	if s, ok := a.storages[key]; ok {
		if s.class != class || s.numel != numel {
			return nil, corrupt("storage %s is referenced with two types or sizes", key)
		}
		return s, nil
	}
	want := int64(numel) * int64(class.size)
	if want > MaxSize || a.total+want > MaxSize {
		return nil, corrupt("storage %s of %d bytes: more than the file can hold", key, want)
	}
	b, err := a.read(a.prefix+"data/"+key, want)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != want {
		return nil, corrupt("storage record data/%s holds %d bytes, its persistent id says %d %s elements (%d bytes)",
			key, len(b), numel, class.dtype, want)
	}
	a.total += want
	s := &storage{class: class, numel: numel, raw: b}
	if a.bigEndian {
		swap(b, class.size)
	}
	a.storages[key] = s
	return s, nil
}

// storageID parses the persistent id of a storage: ('storage', storage
// class, key, location, numel), and in the legacy format a sixth element,
// view_metadata.
func storageID(id any) (class storageClass, key string, numel int, err error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return class, "", 0, corrupt("persistent id %T is not a 5-tuple", id)
	}
	kind, _ := t.Get(0).(string)
	class, okc := t.Get(1).(storageClass)
	key, okk := t.Get(2).(string)
	numel, okn := t.Get(4).(int)
	if kind != "storage" || !okc || !okk || !okn || numel < 0 {
		return class, "", 0, corrupt("persistent id %v is not ('storage', <Type>Storage, key, location, numel)", *t)
	}
	return class, key, numel, nil
}

// swap reverses the bytes of each size-byte element of b.
func swap(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
			b[j], b[k] = b[k], b[j]
		}
	}
}

// Call builds a tensor: (storage, storage_offset, size, stride, ...).
func (r rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < r.minArgs {
		return nil, corrupt("_rebuild_tensor with %d arguments", len(args))
	}
	s, ok := args[0].(*storage)
	offset, ok2 := args[1].(int)
	size, ok3 := args[2].(*types.Tuple)
	stride, ok4 := args[3].(*types.Tuple)
	if !ok || !ok2 || !ok3 || !ok4 || offset < 0 || size.Len() != stride.Len() {
		return nil, corrupt("_rebuild_tensor arguments are not (storage, offset, size, stride)")
	}
	t := &Tensor{DType: s.class.dtype, Shape: make([]int, size.Len())}
	strides := make([]int, size.Len())
	empty := false
	for i := range t.Shape {
		d, ok1 := size.Get(i).(int)
		st, ok2 := stride.Get(i).(int)
		if !ok1 || !ok2 || d < 0 || st < 0 {
			return nil, corrupt("tensor size %v, stride %v", *size, *stride)
		}
		t.Shape[i], strides[i] = d, st
		empty = empty || d == 0
	}
	if empty {
		if _, ok := floatDecoders[t.DType]; ok {
			t.Data = []float32{}
		}
		return t, nil
	}
	// Every dimension is at least 1: the element count and the offset of
	// the last element, stopping before either can overflow.
	if offset >= s.numel {
		return nil, corrupt("tensor at offset %d of a storage of %d elements", offset, s.numel)
	}
	numel, last := 1, offset
	for i, d := range t.Shape {
		if d > s.numel || strides[i] > s.numel || numel > s.numel/d {
			numel = s.numel + 1
			break
		}
		numel *= d
		last += (d - 1) * strides[i]
		if last >= s.numel {
			break
		}
	}
	if numel > s.numel || last >= s.numel {
		return nil, corrupt("tensor of size %v, stride %v at offset %d reaches past its storage of %d elements (or broadcasts it)",
			t.Shape, strides, offset, s.numel)
	}
	elem, ok := floatDecoders[t.DType]
	if !ok {
		return t, nil
	}
	t.Data = make([]float32, numel)
	idx := make([]int, len(t.Shape))
	width := s.class.size
	for i := range t.Data {
		off := offset
		for k, v := range idx {
			off += v * strides[k]
		}
		t.Data[i] = elem(s.raw[width*off:])
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < t.Shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return t, nil
}

// floatDecoders read one little-endian element of a floating-point storage
// as float32, as PyTorch converts when a float32 model loads it
// (Tensor.copy_ in load_state_dict; Optimizer.load_state_dict casts floating
// state to the parameter's dtype): float64 rounds to the nearest float32
// (ties to even, Go's conversion and C's default rounding mode), float16
// and bfloat16 convert exactly.
var floatDecoders = map[string]func([]byte) float32{
	"float32":  func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) },
	"float64":  func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) },
	"float16":  func(b []byte) float32 { return halfToFloat32(binary.LittleEndian.Uint16(b)) },
	"bfloat16": func(b []byte) float32 { return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16) },
}

// halfToFloat32 converts IEEE 754 binary16 bits to float32 (exact: every
// binary16 value, subnormals included, is a float32).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN; the payload keeps its top bits
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac · 2^-24
		f := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// Call returns the parameter's data tensor.
func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, corrupt("_rebuild_parameter without arguments")
	}
	t, ok := args[0].(*Tensor)
	if !ok {
		return nil, corrupt("_rebuild_parameter of a %T", args[0])
	}
	return t, nil
}

// converter turns gopickle's values into the package's tree. Containers
// reached twice through the pickle memo are converted once and shared (so a
// chain of lists that each hold the next one twice costs linear time, not
// exponential); a container that contains itself is an error.
type converter struct {
	done map[any]any // gopickle container pointer -> converted value, or inProgress
}

type inProgressMark struct{}

var inProgress = inProgressMark{}

func plain(v any, depth int) (any, error) {
	c := &converter{done: map[any]any{}}
	return c.plain(v, depth)
}

func (c *converter) plain(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, unsupported("objects nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil, string, bool, float64, *Tensor:
		return x, nil
	case int:
		return int64(x), nil
	case *big.Int:
		if !x.IsInt64() {
			return nil, unsupported("integer %v does not fit in 64 bits", x)
		}
		return x.Int64(), nil
	case *types.List, *types.Tuple, *types.Dict, *types.OrderedDict:
	default:
		return nil, unsupported("a pickled %T where only containers, numbers, strings and tensors are expected", v)
	}
	if r, ok := c.done[v]; ok {
		if r == inProgress {
			return nil, unsupported("a container that contains itself")
		}
		return r, nil
	}
	c.done[v] = inProgress
	var (
		r   any
		err error
	)
	switch x := v.(type) {
	case *types.List:
		r, err = c.seq(*x, depth)
	case *types.Tuple:
		r, err = c.seq(*x, depth)
	case *types.Dict:
		d := &Dict{}
		for _, e := range *x {
			if err = c.set(d, e.Key, e.Value, depth); err != nil {
				break
			}
		}
		r = d
	case *types.OrderedDict:
		d := &Dict{Ordered: true}
		for el := x.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err = c.set(d, e.Key, e.Value, depth); err != nil {
				break
			}
		}
		r = d
	}
	if err != nil {
		return nil, err
	}
	c.done[v] = r
	return r, nil
}

func (c *converter) seq(s []any, depth int) ([]any, error) {
	out := make([]any, len(s))
	for i, e := range s {
		var err error
		if out[i], err = c.plain(e, depth+1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *converter) set(d *Dict, k, v any, depth int) error {
	pk, err := c.plain(k, depth+1)
	if err != nil {
		return err
	}
	pv, err := c.plain(v, depth+1)
	if err != nil {
		return err
	}
	d.Set(pk, pv)
	return nil
}
