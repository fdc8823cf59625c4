package tbwriter

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of the messages the hot path encodes by hand, from
// tensorboard/compat/proto/event.proto and summary.proto (mirrored in
// proto/tbpb). Building a *tbpb.Event per scalar would allocate; appending
// the wire bytes into a reused buffer does not.
const (
	fieldEventWallTime = 1 // Event.wall_time, double
	fieldEventStep     = 2 // Event.step, int64
	fieldEventSummary  = 5 // Event.summary, Summary
	fieldSummaryValue  = 1 // Summary.value, repeated Summary.Value
	fieldValueTag      = 1 // Summary.Value.tag, string
	fieldValueSimple   = 2 // Summary.Value.simple_value, float (oneof)
)

// appendScalarEvent appends the serialized Event
//
//	Event{wall_time, step, summary: Summary{value: [Value{tag, simple_value: v}]}}
//
// to dst. The bytes are what proto.Marshal produces for that message: fields
// in number order, zero wall time, step and empty tag omitted (proto3
// defaults) and simple_value
// always present (it is a oneof member).
func appendScalarEvent(dst []byte, wall float64, step int64, tag string, v float32) []byte {
	valueLen := protowire.SizeTag(fieldValueSimple) + protowire.SizeFixed32()
	if tag != "" {
		valueLen += protowire.SizeTag(fieldValueTag) + protowire.SizeBytes(len(tag))
	}
	summaryLen := protowire.SizeTag(fieldSummaryValue) + protowire.SizeBytes(valueLen)

	if wall != 0 {
		dst = appendUvarint(dst, protowire.EncodeTag(fieldEventWallTime, protowire.Fixed64Type))
		dst = protowire.AppendFixed64(dst, math.Float64bits(wall))
	}
	if step != 0 {
		dst = appendUvarint(dst, protowire.EncodeTag(fieldEventStep, protowire.VarintType))
		dst = appendUvarint(dst, uint64(step))
	}
	dst = appendUvarint(dst, protowire.EncodeTag(fieldEventSummary, protowire.BytesType))
	dst = appendUvarint(dst, uint64(summaryLen))
	dst = appendUvarint(dst, protowire.EncodeTag(fieldSummaryValue, protowire.BytesType))
	dst = appendUvarint(dst, uint64(valueLen))
	if tag != "" {
		dst = appendUvarint(dst, protowire.EncodeTag(fieldValueTag, protowire.BytesType))
		dst = appendUvarint(dst, uint64(len(tag)))
		dst = append(dst, tag...)
	}
	dst = appendUvarint(dst, protowire.EncodeTag(fieldValueSimple, protowire.Fixed32Type))
	return protowire.AppendFixed32(dst, math.Float32bits(v))
}

// headerCache remembers the masked CRC of the last record length: scalar
// records of one tag all have the same length, so the length's CRC is
// computed once per tag change instead of once per record.
type headerCache struct {
	n   int
	crc MaskedCRC
	ok  bool
}

// appendScalarRecord appends one framed record holding the scalar event to
// dst, encoding the event in place (no intermediate buffer). hc may be nil.
func appendScalarRecord(dst []byte, wall float64, step int64, tag string, v float32, hc *headerCache) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...) // placeholder, filled below; does not allocate when dst has room
	dst = appendScalarEvent(dst, wall, step, tag, v)
	payload := dst[start+headerSize:]
	putHeader(dst[start:start+headerSize], len(payload), hc)
	crc := ComputeMaskedCRC(payload)
	return append(dst, byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24))
}

// putHeader writes the length and its masked CRC into h (12 bytes).
func putHeader(h []byte, n int, hc *headerCache) {
	u := uint64(n)
	for i := range lenSize {
		h[i] = byte(u >> (8 * i))
	}
	var crc MaskedCRC
	if hc != nil && hc.ok && hc.n == n {
		crc = hc.crc
	} else {
		crc = ComputeMaskedCRC(h[:lenSize])
		if hc != nil {
			*hc = headerCache{n: n, crc: crc, ok: true}
		}
	}
	h[8], h[9], h[10], h[11] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
}

// appendUvarint is protowire.AppendVarint with an inlinable one-byte fast
// path: every tag and nearly every length of a scalar event is < 128.
func appendUvarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return protowire.AppendVarint(b, v)
}

// deterministic marshals messages that hold maps (graph node attributes,
// hparams values) with their entries in key order, so that the same value
// is the same bytes in every session: proto.Marshal's map order is random.
var deterministic = proto.MarshalOptions{Deterministic: true}
