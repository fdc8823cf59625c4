package ptfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// legacyProtocol is the protocol number the pre-1.6 format writes after its
// magic number (torch/serialization.py PROTOCOL_VERSION).
const legacyProtocol = 1001

// legacyFile is a torch.save file of the format before torch 1.6
// (torch/serialization.py, _legacy_save), one stream of:
//
//	pickle  the magic number 0x1950a86a20f9469cfc6c
//	pickle  the protocol version, 1001
//	pickle  sys_info: {protocol_version, little_endian, type_sizes}
//	pickle  the saved object; a storage is the persistent id
//	        ('storage', torch.<Type>Storage, key, location, numel, view_metadata)
//	pickle  the sorted list of the storage keys
//	then, per key in that order: numel as an int64 of the file's byte
//	order, and numel elements
//
// The storages come after the object, so the object's pickle is unpickled
// twice: first to learn each storage's type and size (the tensors are then
// built on zeroed storage), then, with the storages read, for real. Every
// pickle passes scanPickleEnd and its allow-list before gopickle sees it.
type legacyFile struct {
	data      []byte
	bigEndian bool
	storages  map[string]*storage
	keys      []string // in the order of first reference
	filled    bool     // the storages hold the file's bytes
	total     int64
}

// decodeLegacy reads a file of the pre-1.6 format; b is the whole file and
// starts with legacyMagic.
func decodeLegacy(b []byte) (v any, err error) {
	l := &legacyFile{data: b, storages: map[string]*storage{}}
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, corrupt("legacy format: malformed pickle (%v)", p)
		}
	}()
	pos := 0
	next := func(what string) ([]byte, int, error) {
		n, err := scanPickleEnd(b[pos:])
		if err != nil {
			var fe *ForbiddenError
			if errors.As(err, &fe) {
				fe.Offset += int64(pos)
				fe.Record = "file"
				return nil, 0, fe
			}
			return nil, 0, fmt.Errorf("legacy format, %s pickle at file offset %d: %w", what, pos, err)
		}
		at := pos
		pos += n
		return b[at:pos], at, nil
	}
	if _, _, err := next("magic"); err != nil {
		return nil, err
	}
	proto, _, err := next("protocol")
	if err != nil {
		return nil, err
	}
	if p, err := l.unpickle(proto); err != nil || p != int64(legacyProtocol) {
		return nil, unsupported("legacy format: protocol %v, want %d (%v)", p, legacyProtocol, err)
	}
	sysPkl, at, err := next("sys_info")
	if err != nil {
		return nil, err
	}
	sys, err := l.unpickle(sysPkl)
	d, ok := sys.(*Dict)
	if err != nil || !ok {
		return nil, corrupt("legacy format: sys_info at file offset %d is %v (%v)", at, typeName(sys), err)
	}
	if le, ok := d.Get("little_endian"); ok && le == false {
		l.bigEndian = true
	}
	obj, _, err := next("object")
	if err != nil {
		return nil, err
	}
	// Pass 1: the storages' types and sizes.
	if _, err := l.unpickle(obj); err != nil {
		return nil, err
	}
	keysPkl, at, err := next("storage keys")
	if err != nil {
		return nil, err
	}
	kv, err := l.unpickle(keysPkl)
	list, ok := kv.([]any)
	if err != nil || !ok || len(list) != len(l.keys) {
		return nil, corrupt("legacy format: storage key list at file offset %d is %v, the object references %d storages (%v)",
			at, describe(kv), len(l.keys), err)
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if l.bigEndian {
		order = binary.BigEndian
	}
	for _, k := range list {
		key, _ := k.(string)
		s, ok := l.storages[key]
		if !ok {
			return nil, corrupt("legacy format: storage %v is listed but not referenced", k)
		}
		if len(b)-pos < 8 {
			return nil, corrupt("legacy format: file ends at offset %d, before storage %s", pos, key)
		}
		numel := order.Uint64(b[pos:])
		if numel != uint64(s.numel) {
			return nil, corrupt("legacy format: storage %s at file offset %d holds %d elements, its persistent id says %d", key, pos, numel, s.numel)
		}
		pos += 8
		n := s.numel * s.class.size
		if len(b)-pos < n {
			return nil, corrupt("legacy format: storage %s at file offset %d: %d bytes, %d left in the file", key, pos, n, len(b)-pos)
		}
		copy(s.raw, b[pos:pos+n])
		if l.bigEndian {
			swap(s.raw, s.class.size)
		}
		pos += n
	}
	if pos != len(b) {
		return nil, corrupt("legacy format: %d bytes after the last storage", len(b)-pos)
	}
	// Pass 2: the object with its storages' data.
	l.filled = true
	raw, err := l.unpickle(obj)
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// unpickle runs gopickle on one scanned pickle of the file and converts the
// result (see plain).
func (l *legacyFile) unpickle(p []byte) (any, error) {
	u := pickle.NewUnpickler(bytes.NewReader(p))
	u.FindClass = findClass
	u.PersistentLoad = l.persistentLoad
	raw, err := u.Load()
	if err != nil {
		var fe *ForbiddenError
		if errors.As(err, &fe) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		return nil, corrupt("legacy format: pickle: %v", err)
	}
	return plain(raw, 0)
}

// persistentLoad resolves a legacy storage id. In the first pass it records
// the storage (zeroed: its bytes come later in the file); in the second it
// returns the same storage, now filled.
func (l *legacyFile) persistentLoad(id any) (any, error) {
	class, key, numel, err := storageID(id)
	if err != nil {
		return nil, err
	}
	if t := id.(*types.Tuple); t.Len() > 5 && t.Get(5) != nil {
		return nil, unsupported("legacy format: storage %s is a view of another storage", key)
	}
	if s, ok := l.storages[key]; ok {
		if s.class != class || s.numel != numel {
			return nil, corrupt("storage %s is referenced with two types or sizes", key)
		}
		return s, nil
	}
	if l.filled {
		return nil, corrupt("legacy format: storage %s appears in the second pass only", key)
	}
	want := int64(numel) * int64(class.size)
	if want > int64(len(l.data)) || l.total+want > int64(len(l.data)) {
		return nil, corrupt("storage %s of %d bytes: more than the file can hold", key, want)
	}
	l.total += want
	s := &storage{class: class, numel: numel, raw: make([]byte, want)}
	l.storages[key] = s
	l.keys = append(l.keys, key)
	return s, nil
}

// readAll reads the whole of r (size bytes).
func readAll(r io.ReaderAt, size int64) ([]byte, error) {
	b := make([]byte, size)
	n, err := r.ReadAt(b, 0)
	if n == len(b) {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}
