package ptfile

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// zipAlign is the alignment of every record's data in the zip file: 64
// bytes, as PyTorch's writer pads them (caffe2/serialize/inline_container.cc,
// kFieldAlignment), so that readers may map tensors straight from the file.
const zipAlign = 64

// padExtraID is the id of the zip extra field that carries the padding;
// PyTorch's writer uses the same two letters "FB". Readers skip extra fields
// they do not know.
const padExtraID = 0x4246

// formatVersion is the content of the archive's version record: 3, what
// torch 1.6 to 2.x write for a torch.save file (kProducedFileFormatVersion
// is for TorchScript; torch.save writes "3").
const formatVersion = "3\n"

// Encode writes v (a tree of the values described at [Dict]; tensors must
// be float32) to w as a torch.save file: a zip archive, stored without
// compression, holding <name>/data.pkl (a pickle of protocol 2, torch.save's
// default, in which each tensor is a torch._utils._rebuild_tensor_v2 call on
// a FloatStorage named by a persistent id), one <name>/data/<key> record of
// little-endian float32 values per tensor, and <name>/version.
func Encode(w io.Writer, name string, v any) error {
	e := &encoder{}
	e.buf = append(e.buf, opProto, 2)
	if err := e.value(v, 0); err != nil {
		return err
	}
	e.buf = append(e.buf, opStop)

	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	zw := zip.NewWriter(bw)
	add := func(rec string, data []byte) error {
		if err := zw.Flush(); err != nil {
			return err
		}
		fname := name + "/" + rec
		// Local header: 30 bytes + name + extra (PKWARE APPNOTE 4.3.7).
		start := cw.n + int64(bw.Buffered()) + 30 + int64(len(fname)) + 4
		pad := (zipAlign - start%zipAlign) % zipAlign
		extra := binary.LittleEndian.AppendUint16(nil, padExtraID)
		extra = binary.LittleEndian.AppendUint16(extra, uint16(pad))
		for range pad {
			extra = append(extra, 'Z')
		}
		fw, err := zw.CreateRaw(&zip.FileHeader{
			Name:               fname,
			Method:             zip.Store,
			CRC32:              crc32.ChecksumIEEE(data),
			CompressedSize64:   uint64(len(data)),
			UncompressedSize64: uint64(len(data)),
			Extra:              extra,
		})
		if err != nil {
			return err
		}
		_, err = fw.Write(data)
		return err
	}
	if err := add("data.pkl", e.buf); err != nil {
		return err
	}
	for i, t := range e.tensors {
		raw := make([]byte, 0, 4*len(t.Data))
		for _, f := range t.Data {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
		}
		if err := add("data/"+strconv.Itoa(i), raw); err != nil {
			return err
		}
	}
	if err := add("version", []byte(formatVersion)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// encoder writes pickle opcodes (protocol 2) into buf; tensors collects the
// tensors in the order their storages are named ("0", "1", ...).
type encoder struct {
	buf     []byte
	tensors []*Tensor
}

func (e *encoder) global(module, name string) {
	e.buf = append(e.buf, opGlobal)
	e.buf = append(e.buf, module...)
	e.buf = append(e.buf, '\n')
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, '\n')
}

func (e *encoder) str(s string) {
	e.buf = append(e.buf, opBinUnicode)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) int(x int64) {
	switch {
	case x >= 0 && x < 1<<8:
		e.buf = append(e.buf, opBinInt1, byte(x))
	case x >= 0 && x < 1<<16:
		e.buf = append(e.buf, opBinInt2, byte(x), byte(x>>8))
	case x >= math.MinInt32 && x <= math.MaxInt32:
		e.buf = append(e.buf, opBinInt)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(int32(x)))
	default:
		// LONG1: little-endian two's complement, 8 bytes is always enough.
		e.buf = append(e.buf, opLong1, 8)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(x))
	}
}

// emptyOrderedDict writes collections.OrderedDict().
func (e *encoder) emptyOrderedDict() {
	e.global("collections", "OrderedDict")
	e.buf = append(e.buf, opEmptyTuple, opReduce)
}

func (e *encoder) value(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("ptfile: encode: values nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, opNone)
	case bool:
		if x {
			e.buf = append(e.buf, opNewTrue)
		} else {
			e.buf = append(e.buf, opNewFalse)
		}
	case int64:
		e.int(x)
	case int:
		e.int(int64(x))
	case float64:
		e.buf = append(e.buf, opBinFloat)
		e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(x))
	case string:
		if !utf8.ValidString(x) {
			return fmt.Errorf("ptfile: encode: string %q is not valid UTF-8", x)
		}
		e.str(x)
	case []any:
		e.buf = append(e.buf, opEmptyList)
		if len(x) > 0 {
			e.buf = append(e.buf, opMark)
			for _, el := range x {
				if err := e.value(el, depth+1); err != nil {
					return err
				}
			}
			e.buf = append(e.buf, opAppends)
		}
	case *Dict:
		if x.Ordered {
			e.emptyOrderedDict()
		} else {
			e.buf = append(e.buf, opEmptyDict)
		}
		if x.Len() > 0 {
			e.buf = append(e.buf, opMark)
			for i, k := range x.keys {
				if err := e.value(k, depth+1); err != nil {
					return err
				}
				if err := e.value(x.vals[i], depth+1); err != nil {
					return err
				}
			}
			e.buf = append(e.buf, opSetItems)
		}
	case *Tensor:
		return e.tensor(x)
	default:
		return fmt.Errorf("ptfile: encode: cannot pickle a %T", v)
	}
	return nil
}

// tensor writes torch._utils._rebuild_tensor_v2(storage, 0, size, stride,
// False, OrderedDict()) with a persistent id for the storage, as
// torch.save does for a contiguous float32 CPU tensor.
func (e *encoder) tensor(t *Tensor) error {
	if t.DType != "" && t.DType != "float32" {
		return fmt.Errorf("ptfile: encode: a %s tensor; only float32 is written", t.DType)
	}
	n := t.Numel()
	if n != len(t.Data) {
		return fmt.Errorf("ptfile: encode: tensor of shape %v holds %d values", t.Shape, len(t.Data))
	}
	key := strconv.Itoa(len(e.tensors))
	e.tensors = append(e.tensors, t)
	e.global("torch._utils", "_rebuild_tensor_v2")
	e.buf = append(e.buf, opMark)
	// The persistent id: ('storage', torch.FloatStorage, key, 'cpu', numel).
	e.buf = append(e.buf, opMark)
	e.str("storage")
	e.global("torch", "FloatStorage")
	e.str(key)
	e.str("cpu")
	e.int(int64(n))
	e.buf = append(e.buf, opTuple, opBinPersID)
	e.int(0) // storage offset
	stride := make([]int64, len(t.Shape))
	s := int64(1)
	for i := len(t.Shape) - 1; i >= 0; i-- {
		stride[i] = s
		s *= int64(t.Shape[i])
	}
	e.buf = append(e.buf, opMark)
	for _, d := range t.Shape {
		e.int(int64(d))
	}
	e.buf = append(e.buf, opTuple, opMark)
	for _, st := range stride {
		e.int(st)
	}
	e.buf = append(e.buf, opTuple, opNewFalse)
	e.emptyOrderedDict()
	e.buf = append(e.buf, opTuple, opReduce)
	return nil
}
