package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// IDX constants, from the format description on Yann LeCun's MNIST page
// (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE").
const (
	idxTypeUbyte = 0x08       // third magic byte: element type "unsigned byte"
	labelMagic   = 0x00000801 // ubyte elements, 1 dimension
	imageMagic   = 0x00000803 // ubyte elements, 3 dimensions
)

// gzipMagic is the two-byte ID that starts every gzip member (RFC 1952, section 2.3.1).
var gzipMagic = []byte{0x1f, 0x8b}

// maxItems bounds the item count an IDX header may announce. MNIST has 60,000
// training and 10,000 test items; EMNIST, the largest drop-in relative, has
// 814,255. 1<<24 leaves ample room while keeping n*784 far from overflow.
const maxItems = 1 << 24

// maxDataBytes bounds the data size a header may announce (1 GiB: 1.37
// million 28x28 images, 1.7 times EMNIST ByClass). It caps what a gzip bomb
// (deflate expands up to 1032:1) can make the parser hold in memory.
const maxDataBytes = 1 << 30

// idxFile is one parsed IDX file of unsigned bytes.
type idxFile struct {
	dims []int  // sizes, outermost first
	data []byte // product(dims) elements, row-major
}

// decompress returns a reader over the content of raw, transparently gunzipping
// it when it starts with the gzip magic.
func decompress(raw []byte) (io.Reader, error) {
	if !bytes.HasPrefix(raw, gzipMagic) {
		return bytes.NewReader(raw), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: bad gzip header: %v", ErrFormat, err)
	}
	return zr, nil
}

// parseIDX parses an IDX file of unsigned bytes with exactly ndim dimensions
// from r. Errors wrap ErrFormat or ErrTruncated. Memory grows only with the
// bytes actually read, never with the size the header claims.
//
// sizeHint, if positive, is a guess of the decoded size used to allocate the
// data buffer once; it is capped by what the header announces.
func parseIDX(r io.Reader, ndim int, sizeHint int) (*idxFile, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, readErr(err, "magic number")
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != idxTypeUbyte || int(hdr[3]) != ndim {
		return nil, fmt.Errorf("%w: magic number 0x%08x, want 0x%08x (unsigned bytes, %d dimensions)",
			ErrFormat, magic, uint32(idxTypeUbyte)<<8|uint32(ndim), ndim)
	}
	dimBuf := make([]byte, 4*ndim)
	if _, err := io.ReadFull(r, dimBuf); err != nil {
		return nil, readErr(err, "dimension sizes")
	}
	f := &idxFile{dims: make([]int, ndim)}
	total := uint64(1)
	for i := range ndim {
		d := binary.BigEndian.Uint32(dimBuf[4*i:])
		f.dims[i] = int(d)
		total *= uint64(d) // ndim <= 3 and the checks below keep this < 2^40
		if i == 0 && d > maxItems {
			return nil, fmt.Errorf("%w: header announces %d items, more than the limit of %d", ErrFormat, d, maxItems)
		}
		if i > 0 && d > 1<<8 {
			return nil, fmt.Errorf("%w: dimension %d is %d, larger than any image this package handles", ErrFormat, i, d)
		}
	}
	if total > maxDataBytes {
		return nil, fmt.Errorf("%w: header announces %d data bytes, more than the limit of %d", ErrFormat, total, maxDataBytes)
	}
	// Read at most total+1 bytes: the extra byte detects trailing garbage, and
	// reading to EOF makes a gzip reader verify its CRC-32 and length trailer.
	var buf bytes.Buffer
	if sizeHint > 0 {
		buf.Grow(int(min(uint64(sizeHint), total+1)))
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(total)+1)); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: compressed stream ends after %d of %d data bytes", ErrTruncated, buf.Len(), total)
		}
		return nil, fmt.Errorf("%w: reading data: %v", ErrFormat, err)
	}
	data := buf.Bytes()
	switch {
	case uint64(len(data)) < total:
		return nil, fmt.Errorf("%w: header announces %d data bytes, file holds %d", ErrTruncated, total, len(data))
	case uint64(len(data)) > total:
		return nil, fmt.Errorf("%w: trailing data after the %d bytes the header announces", ErrFormat, total)
	}
	// len(data) == total means r reported EOF before the limit, so a gzip
	// reader has already verified its CRC-32 and size trailer.
	f.data = data
	return f, nil
}

// readErr classifies an error from reading a fixed-size header part.
func readErr(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: file ends inside the %s", ErrTruncated, what)
	}
	return fmt.Errorf("%w: reading the %s: %v", ErrFormat, what, err)
}
