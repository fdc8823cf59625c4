package ckpt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// Envelope layout; see the package documentation for the rationale.
const (
	// EnvelopeVersion is the envelope version this package writes and reads.
	EnvelopeVersion = 1
	// FormatVersion is the Checkpoint.format_version this package accepts.
	FormatVersion = 1

	magicLen   = 8
	headerLen  = magicLen + 4 + 8 + 4 // magic, version, payload length, header CRC
	trailerLen = 4                    // payload CRC
	// Overhead is the number of envelope bytes around the payload.
	Overhead = headerLen + trailerLen
	// MaxSize is the size of the largest file [Load] and [Decode] accept:
	// the envelope around a payload of the largest length a header may
	// announce. A reader of an unbounded stream need not read beyond it.
	MaxSize = maxPayload + Overhead

	// maxPayload bounds the payload length a header may announce. A LeNet-5
	// checkpoint is about 0.5 MB (61,706 float32 parameters plus as many
	// momentum values); 1 GiB leaves room for far larger models while
	// keeping a damaged length from requesting absurd amounts of memory.
	maxPayload = 1 << 30
)

// magic opens every checkpoint file. Its design follows the PNG signature
// (PNG specification, section 12.12 "PNG file signature"): a first byte with
// the high bit set catches 7-bit transfers, "TBC" names the format, CR LF
// catches line-ending conversion, 0x1a stops a DOS `type`, and the final LF
// catches LF-to-CRLF conversion.
var magic = [magicLen]byte{0x89, 'T', 'B', 'C', '\r', '\n', 0x1a, '\n'}

// castagnoli is the CRC-32C table (polynomial 0x82F63B78, RFC 3720 appendix
// B.4). Built once: crc32.Update takes the hardware path only for a table
// made by crc32.MakeTable(crc32.Castagnoli).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode marshals c and wraps it in the envelope.
func encode(c *ckptpb.Checkpoint) ([]byte, error) {
	if err := validate(c); err != nil {
		return nil, err
	}
	size := proto.Size(c)
	if size > maxPayload {
		return nil, fmt.Errorf("%w: payload of %d bytes exceeds the %d-byte limit", ErrInvalid, size, maxPayload)
	}
	b := make([]byte, headerLen, Overhead+size)
	copy(b, magic[:])
	binary.LittleEndian.PutUint32(b[magicLen:], EnvelopeVersion)
	binary.LittleEndian.PutUint64(b[magicLen+4:], uint64(size))
	binary.LittleEndian.PutUint32(b[magicLen+12:], crc32.Checksum(b[:magicLen+12], castagnoli))
	b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(b, c)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal: %v", ErrInvalid, err)
	}
	if len(b) != headerLen+size {
		return nil, fmt.Errorf("%w: checkpoint changed while being marshalled", ErrInvalid)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[headerLen:], castagnoli)), nil
}

// decode verifies the envelope in b and then, and only then, unmarshals the
// payload and validates its content. Errors wrap ErrNotCheckpoint,
// ErrTruncated, ErrCorrupt, ErrVersion or ErrInvalid.
func decode(b []byte) (*ckptpb.Checkpoint, error) {
	n, err := checkHeader(b)
	if err != nil {
		return nil, err
	}
	switch end := uint64(headerLen) + n + trailerLen; {
	case uint64(len(b)) < end:
		return nil, fmt.Errorf("%w: file has %d bytes, the header announces %d", ErrTruncated, len(b), end)
	case uint64(len(b)) > end:
		return nil, fmt.Errorf("%w: %d unexpected bytes after the end of the checkpoint at byte %d", ErrCorrupt, uint64(len(b))-end, end)
	}
	payload := b[headerLen : headerLen+n]
	want := binary.LittleEndian.Uint32(b[headerLen+n:])
	if got := crc32.Checksum(payload, castagnoli); got != want {
		return nil, fmt.Errorf("%w: payload CRC-32C is %#08x, the file records %#08x", ErrCorrupt, got, want)
	}
	c := new(ckptpb.Checkpoint)
	if err := proto.Unmarshal(payload, c); err != nil {
		return nil, fmt.Errorf("%w: payload does not decode: %v", ErrCorrupt, err)
	}
	if err := validate(c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkHeader verifies the fixed-size header at the start of b (which may be
// only a prefix of the file) and returns the payload length it announces.
func checkHeader(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: empty file", ErrTruncated)
	}
	if m := b[:min(len(b), magicLen)]; !bytes.Equal(m, magic[:len(m)]) {
		return 0, fmt.Errorf("%w: file starts with % x, not the checkpoint magic % x", ErrNotCheckpoint, m, magic[:len(m)])
	}
	if len(b) < headerLen {
		return 0, fmt.Errorf("%w: file has %d bytes, shorter than the %d-byte header", ErrTruncated, len(b), headerLen)
	}
	h := b[:headerLen]
	// Every envelope version keeps this header layout, so the header CRC is
	// checked first: a version number that passes it is genuine, not a
	// damaged 1.
	if got, want := crc32.Checksum(h[:magicLen+12], castagnoli), binary.LittleEndian.Uint32(h[magicLen+12:]); got != want {
		return 0, fmt.Errorf("%w: header CRC-32C is %#08x, the file records %#08x", ErrCorrupt, got, want)
	}
	if v := binary.LittleEndian.Uint32(h[magicLen:]); v != EnvelopeVersion {
		return 0, fmt.Errorf("%w: envelope version %d, this build reads version %d (written by a newer tbtrain?)", ErrVersion, v, EnvelopeVersion)
	}
	n := binary.LittleEndian.Uint64(h[magicLen+4:])
	if n > maxPayload {
		return 0, fmt.Errorf("%w: header announces a %d-byte payload, over the %d-byte limit", ErrCorrupt, n, maxPayload)
	}
	return n, nil
}

// validate checks the content of a checkpoint for internal consistency.
func validate(c *ckptpb.Checkpoint) error {
	if v := c.GetFormatVersion(); v != FormatVersion {
		return fmt.Errorf("%w: format_version %d, this build reads version %d", ErrVersion, v, FormatVersion)
	}
	if c.GetModel() == "" {
		return fmt.Errorf("%w: no model name", ErrInvalid)
	}
	if c.GetEpoch() < 0 || c.GetGlobalStep() < 0 || c.GetBatchInEpoch() < 0 {
		return fmt.Errorf("%w: negative position (epoch %d, global_step %d, batch_in_epoch %d)",
			ErrInvalid, c.GetEpoch(), c.GetGlobalStep(), c.GetBatchInEpoch())
	}
	for i, t := range c.GetParams() {
		if err := checkTensor(t); err != nil {
			return fmt.Errorf("%w: params[%d]: %v", ErrInvalid, i, err)
		}
	}
	if opt := c.GetOptimizer(); opt.GetHasBuffers() {
		buf := opt.GetMomentumBuffer()
		if len(buf) != len(c.GetParams()) {
			return fmt.Errorf("%w: %d momentum buffers for %d parameters", ErrInvalid, len(buf), len(c.GetParams()))
		}
		for i, t := range buf {
			if err := checkTensor(t); err != nil {
				return fmt.Errorf("%w: momentum_buffer[%d]: %v", ErrInvalid, i, err)
			}
			if p := c.GetParams()[i]; len(t.GetData()) != len(p.GetData()) {
				return fmt.Errorf("%w: momentum_buffer[%d] has %d values, parameter %q has %d",
					ErrInvalid, i, len(t.GetData()), p.GetName(), len(p.GetData()))
			}
		}
	}
	return nil
}

// checkTensor checks that a tensor's shape matches its data length.
func checkTensor(t *ckptpb.Tensor) error {
	n := uint64(1)
	for _, d := range t.GetShape() {
		if d < 0 || d > maxPayload {
			return fmt.Errorf("tensor %q has dimension %d", t.GetName(), d)
		}
		n *= uint64(d)
		if n > maxPayload {
			return fmt.Errorf("tensor %q has shape %v, too large", t.GetName(), t.GetShape())
		}
	}
	if n != uint64(len(t.GetData())) {
		return fmt.Errorf("tensor %q has shape %v (%d values) but %d values", t.GetName(), t.GetShape(), n, len(t.GetData()))
	}
	return nil
}

// Encode returns the file content [Save] would write for c: the envelope
// around the marshalled checkpoint. It refuses what [Decode] would reject.
func Encode(c *ckptpb.Checkpoint) ([]byte, error) { return encode(c) }

// Decode verifies and decodes the content of a checkpoint file, as [Load]
// does for a file, checking both checksums before unmarshalling. Errors wrap
// [ErrNotCheckpoint], [ErrTruncated], [ErrCorrupt], [ErrVersion] or
// [ErrInvalid]; they do not name a file (Load wraps them in an *[Error]).
func Decode(b []byte) (*ckptpb.Checkpoint, error) { return decode(b) }
