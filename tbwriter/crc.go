package tbwriter

import "hash/crc32"

// castagnoli is the CRC-32C table. It is built once with crc32.MakeTable:
// hash/crc32 only takes its hardware-accelerated path for this exact table
// pointer (see crc32.Update).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcMaskDelta is the constant added after rotating a CRC-32C, as in LevelDB's
// util/crc32c.h (kMaskDelta) and TensorFlow's tsl/lib/hash/crc32c.h, which
// TFRecord (and so the event file format) uses.
const crcMaskDelta = 0xa282ead8

// MaskedCRC is a CRC-32C (Castagnoli) checksum after the masking permutation
// used by TFRecord files: rotate right by 15 bits, then add 0xa282ead8. The
// mask exists because computing a CRC of data that embeds CRCs is weak.
// A MaskedCRC is never the raw CRC; convert with [MaskCRC] and [MaskedCRC.Unmask].
type MaskedCRC uint32

// MaskCRC masks a raw CRC-32C value.
func MaskCRC(crc uint32) MaskedCRC {
	return MaskedCRC(((crc >> 15) | (crc << 17)) + crcMaskDelta)
}

// Unmask returns the raw CRC-32C value that m was computed from.
func (m MaskedCRC) Unmask() uint32 {
	rot := uint32(m) - crcMaskDelta
	return (rot >> 17) | (rot << 15)
}

// ComputeMaskedCRC returns the masked CRC-32C of p.
func ComputeMaskedCRC(p []byte) MaskedCRC {
	return MaskCRC(crc32.Checksum(p, castagnoli))
}
