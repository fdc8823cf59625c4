package ptfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"unicode/utf8"
)

// Safetensors format (huggingface/safetensors README, "Format"):
//
//	8 bytes    N, the header length, unsigned little-endian
//	N bytes    JSON object, UTF-8, starting with '{', optionally padded with
//	           spaces (0x20): tensor name -> {"dtype", "shape",
//	           "data_offsets": [begin, end]}, plus an optional
//	           "__metadata__" object of string -> string
//	rest       the byte buffer: each tensor little-endian, row-major, at
//	           [begin, end) relative to the buffer's start; the tensors
//	           cover the buffer with no holes and no overlap
//
// The reference writer pads the header to a multiple of 8 bytes so every
// tensor is aligned; so does WriteSafetensors.

// safetensorsAlign is the header padding of the reference writer.
const safetensorsAlign = 8

// maxSafetensorsHeader is the largest header ReadSafetensors accepts: 100
// MB, the limit of the reference implementation (MAX_HEADER_SIZE).
const maxSafetensorsHeader = 100_000_000

// metadataKey is the reserved header entry for free-form metadata.
const metadataKey = "__metadata__"

type stEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// WriteSafetensors writes float32 tensors (dtype "F32") to w in the
// safetensors format, in the given order, with metadata (may be nil) as the
// header's __metadata__. Names must be unique and not "__metadata__".
func WriteSafetensors(w io.Writer, tensors []NamedTensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header[metadataKey] = metadata
	}
	var off int64
	for _, nt := range tensors {
		t := nt.Tensor
		if nt.Name == metadataKey || nt.Name == "" {
			return fmt.Errorf("ptfile: safetensors: invalid tensor name %q", nt.Name)
		}
		if _, dup := header[nt.Name]; dup {
			return fmt.Errorf("ptfile: safetensors: tensor %q appears twice", nt.Name)
		}
		if !utf8.ValidString(nt.Name) {
			return fmt.Errorf("ptfile: safetensors: tensor name %q is not UTF-8", nt.Name)
		}
		if (t.DType != "" && t.DType != "float32") || t.Numel() != len(t.Data) {
			return fmt.Errorf("ptfile: safetensors: tensor %s: want float32 data matching shape %v", nt.Name, t.Shape)
		}
		n := int64(4 * len(t.Data))
		header[nt.Name] = stEntry{DType: "F32", Shape: nonNil(t.Shape), DataOffsets: [2]int64{off, off + n}}
		off += n
	}
	h, err := json.Marshal(header) // keys sorted: the output is deterministic
	if err != nil {
		return fmt.Errorf("ptfile: safetensors: %w", err)
	}
	for (8+len(h))%safetensorsAlign != 0 {
		h = append(h, ' ')
	}
	buf := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(h)+int(off)), uint64(len(h)))
	buf = append(buf, h...)
	for _, nt := range tensors {
		for _, f := range nt.Tensor.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
		}
	}
	_, err = w.Write(buf)
	return err
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// ReadSafetensors parses a safetensors file held in b. F32 tensors come
// back with their data; tensors of other dtypes with their shape and DType
// (the safetensors name, e.g. "F16") only. The tensors are returned in
// buffer order. Every offset, length and shape is checked against the
// file before use; errors wrap [ErrCorrupt] or [ErrNotTorchFile].
func ReadSafetensors(b []byte) ([]NamedTensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("%w: safetensors file of %d bytes", ErrNotTorchFile, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxSafetensorsHeader || n > uint64(len(b)-8) {
		return nil, nil, corrupt("safetensors header of %d bytes in a file of %d", n, len(b))
	}
	hdr, data := b[8:8+n], b[8+n:]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, fmt.Errorf("%w: safetensors header does not start with '{'", ErrNotTorchFile)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, corrupt("safetensors header: %v", err)
	}
	if rest := bytes.TrimRight(hdr[dec.InputOffset():], " "); len(rest) > 0 {
		return nil, nil, corrupt("safetensors header: %d bytes after the JSON object", len(rest))
	}
	if err := noDuplicateKeys(hdr); err != nil {
		return nil, nil, err
	}
	var meta map[string]string
	if m, ok := raw[metadataKey]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, corrupt("safetensors __metadata__: %v", err)
		}
		delete(raw, metadataKey)
	}
	type item struct {
		name string
		e    stEntry
	}
	items := make([]item, 0, len(raw))
	for name, m := range raw {
		var e stEntry
		if err := json.Unmarshal(m, &e); err != nil {
			return nil, nil, corrupt("safetensors tensor %q: %v", name, err)
		}
		items = append(items, item{name, e})
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i].e.DataOffsets, items[j].e.DataOffsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		return a[1] < b[1]
	})
	out := make([]NamedTensor, 0, len(items))
	var next int64
	for _, it := range items {
		e := it.e
		size, ok := stDTypeSize[e.DType]
		if !ok {
			return nil, nil, corrupt("safetensors tensor %q: unknown dtype %q", it.name, e.DType)
		}
		numel := int64(1)
		for _, d := range e.Shape {
			if d == 0 {
				numel = 0
			}
		}
		for _, d := range e.Shape {
			if d < 0 || (numel > 0 && numel > int64(len(data))/int64(d)) {
				return nil, nil, corrupt("safetensors tensor %q: shape %v does not fit the file", it.name, e.Shape)
			}
			if numel > 0 {
				numel *= int64(d)
			}
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin != next || end < begin || end > int64(len(data)) || end-begin != numel*int64(size) {
			return nil, nil, corrupt("safetensors tensor %q: data_offsets [%d, %d] for %d %s values (buffer of %d bytes, next free offset %d)",
				it.name, begin, end, numel, e.DType, len(data), next)
		}
		next = end
		t := &Tensor{DType: e.DType, Shape: append([]int{}, e.Shape...)}
		if e.DType == "F32" {
			t.DType = "float32"
			t.Data = make([]float32, numel)
			for i := range t.Data {
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[begin+4*int64(i):]))
			}
		}
		out = append(out, NamedTensor{Name: it.name, Tensor: t})
	}
	if next != int64(len(data)) {
		return nil, nil, corrupt("safetensors buffer of %d bytes, tensors cover %d", len(data), next)
	}
	return out, meta, nil
}

// stDTypeSize lists the safetensors dtypes and their sizes in bytes
// (safetensors README, "dtype").
var stDTypeSize = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// noDuplicateKeys rejects a header whose top-level object repeats a key
// (the format forbids it; encoding/json would keep the last silently).
func noDuplicateKeys(hdr []byte) error {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if _, err := dec.Token(); err != nil { // '{'
		return corrupt("safetensors header: %v", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return corrupt("safetensors header: %v", err)
		}
		k, _ := tok.(string)
		if seen[k] {
			return corrupt("safetensors header: key %q appears twice", k)
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return corrupt("safetensors header: %v", err)
		}
	}
	return nil
}
