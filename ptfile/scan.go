package ptfile

import (
	"bytes"
	"encoding/binary"
)

// Pickle opcodes (CPython Lib/pickle.py, protocol 2). These are exactly the
// opcodes torch.save writes with its default pickle_protocol 2 (and the ones
// torch/_weights_only_unpickler.py accepts), plus the protocol 0/1 list and
// dict builders, which build the same plain containers.
const (
	opMark           = '('
	opStop           = '.'
	opNone           = 'N'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opLong1          = 0x8a
	opBinFloat       = 'G'
	opBinUnicode     = 'X'
	opShortBinString = 'U'
	opEmptyTuple     = ')'
	opTuple          = 't'
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opEmptyList      = ']'
	opAppend         = 'a'
	opAppends        = 'e'
	opList           = 'l'
	opEmptyDict      = '}'
	opSetItem        = 's'
	opSetItems       = 'u'
	opDict           = 'd'
	opGlobal         = 'c'
	opReduce         = 'R'
	opBuild          = 'b'
	opNewObj         = 0x81
	opBinPersID      = 'Q'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opProto          = 0x80
	opNewTrue        = 0x88
	opNewFalse       = 0x89
)

// fixedArg is the argument length of the opcodes whose argument has a fixed
// size; -1 marks the opcodes with a length-prefixed or line argument.
var fixedArg = map[byte]int{
	opMark: 0, opStop: 0, opNone: 0, opNewTrue: 0, opNewFalse: 0,
	opBinInt: 4, opBinInt1: 1, opBinInt2: 2, opBinFloat: 8,
	opEmptyTuple: 0, opTuple: 0, opTuple1: 0, opTuple2: 0, opTuple3: 0,
	opEmptyList: 0, opAppend: 0, opAppends: 0, opList: 0,
	opEmptyDict: 0, opSetItem: 0, opSetItems: 0, opDict: 0,
	opReduce: 0, opBuild: 0, opNewObj: 0, opBinPersID: 0,
	opBinGet: 1, opLongBinGet: 4, opBinPut: 1, opLongBinPut: 4,
	opProto: 1,
	opLong1: -1, opBinUnicode: -1, opShortBinString: -1, opGlobal: -1,
}

// maxGlobalLine bounds a GLOBAL's module or name (Python's own names are far
// shorter; the bound only stops a scan for a newline through a huge file).
const maxGlobalLine = 256

// allowed is the allow-list of pickle globals, spelled as torch.save writes
// them at protocol 2. Each maps to a Go value that only builds data (see
// findClass); none of them can reach the file system, a process or an
// interpreter.
var allowed = map[string]bool{
	"collections.OrderedDict":         true, // state_dict containers
	"torch._utils._rebuild_tensor_v2": true, // every tensor since torch 1.0
	"torch._utils._rebuild_tensor":    true, // older tensors
	"torch._utils._rebuild_parameter": true, // an nn.Parameter saved as such
	"torch.FloatStorage":              true, // storage types: only named in persistent ids
	"torch.DoubleStorage":             true,
	"torch.HalfStorage":               true,
	"torch.BFloat16Storage":           true,
	"torch.LongStorage":               true,
	"torch.IntStorage":                true,
	"torch.ShortStorage":              true,
	"torch.CharStorage":               true,
	"torch.ByteStorage":               true,
	"torch.BoolStorage":               true,
}

// scanPickle walks the opcodes of a pickle without building anything. It
// returns an error for an opcode outside the protocol-2 set above, for an
// argument that runs past the end of data, for a missing STOP, and — as a
// *ForbiddenError — for the first GLOBAL that is not in allowed. Only a
// pickle that passes is given to the unpickler, so the unpickler never
// resolves a name outside the list (gopickle resolves a few names itself
// before consulting its FindClass hook; the scan makes that hook the only
// way in) and never allocates an argument longer than the data.
func scanPickle(data []byte) error {
	_, err := scanPickleEnd(data)
	return err
}

// scanPickleEnd is scanPickle that also returns the length of the pickle:
// the offset just past its STOP. The bytes after it are not looked at (the
// legacy format writes several pickles and raw data one after the other).
func scanPickleEnd(data []byte) (int, error) {
	pos := 0
	for pos < len(data) {
		at := pos
		op := data[pos]
		pos++
		n, ok := fixedArg[op]
		if !ok {
			return 0, unsupported("pickle opcode %#02x at data.pkl offset %d: torch.save (pickle protocol 2) never writes it", op, at)
		}
		switch op {
		case opProto:
			if pos < len(data) && data[pos] > 2 {
				return 0, unsupported("pickle protocol %d at data.pkl offset %d: torch.save writes protocol 2", data[pos], at)
			}
		case opLong1, opShortBinString:
			if pos >= len(data) {
				return 0, corrupt("pickle ends inside the opcode at data.pkl offset %d", at)
			}
			n = 1 + int(data[pos])
		case opBinUnicode:
			if len(data)-pos < 4 {
				return 0, corrupt("pickle ends inside the opcode at data.pkl offset %d", at)
			}
			l := binary.LittleEndian.Uint32(data[pos:])
			if uint64(l) > uint64(len(data)-pos-4) {
				return 0, corrupt("string of %d bytes at data.pkl offset %d runs past the end (%d bytes left)", l, at, len(data)-pos-4)
			}
			n = 4 + int(l)
		case opGlobal:
			module, rest, ok1 := line(data[pos:])
			name, _, ok2 := line(rest)
			if !ok1 || !ok2 {
				return 0, corrupt("malformed GLOBAL at data.pkl offset %d", at)
			}
			if !allowed[module+"."+name] {
				return 0, &ForbiddenError{Module: module, Name: name, Offset: int64(at)}
			}
			n = len(module) + len(name) + 2
		case opStop:
			return pos, nil
		}
		if n > len(data)-pos {
			return 0, corrupt("pickle ends inside the opcode at data.pkl offset %d", at)
		}
		pos += n
	}
	return 0, corrupt("pickle has no STOP opcode (%d bytes)", len(data))
}

// line returns the bytes up to the next newline (at most maxGlobalLine, all
// printable ASCII) and what follows it.
func line(b []byte) (s string, rest []byte, ok bool) {
	i := bytes.IndexByte(b[:min(len(b), maxGlobalLine+1)], '\n')
	if i <= 0 {
		return "", nil, false
	}
	for _, c := range b[:i] {
		if c < 0x21 || c > 0x7e {
			return "", nil, false
		}
	}
	return string(b[:i]), b[i+1:], true
}
