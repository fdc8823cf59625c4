package tbwriter

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math"
)

// errUnexpectedEOF is io.ErrUnexpectedEOF; the alias keeps TornError.Is short.
var errUnexpectedEOF = io.ErrUnexpectedEOF

// Record framing sizes, from TensorFlow's record_writer.cc / TensorBoard's
// tf_record.rs: an 8-byte little-endian length, the 4-byte masked CRC of
// those 8 bytes, the payload, and the 4-byte masked CRC of the payload.
const (
	lenSize      = 8
	crcSize      = 4
	headerSize   = lenSize + crcSize // 12
	footerSize   = crcSize           // 4
	recordFrame  = headerSize + footerSize
	readChunkMax = 1 << 16 // largest single allocation step when the total size is unknown
)

// MaxRecordSize is the largest payload RecordWriter accepts and the largest
// a RecordReader returns. It is far above any event this package writes; it
// bounds memory use on hostile input only together with the bytes present.
const MaxRecordSize = 1 << 30

// AppendRecord appends one framed record holding payload p to dst and returns
// the extended slice. It does not allocate when dst has room.
func AppendRecord(dst, p []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(p)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(ComputeMaskedCRC(dst[start:start+lenSize])))
	dst = append(dst, p...)
	return binary.LittleEndian.AppendUint32(dst, uint32(ComputeMaskedCRC(p)))
}

// A RecordWriter writes framed records to an io.Writer. It knows nothing of
// events. After a write error every later call returns the same error.
// A RecordWriter is not safe for concurrent use.
type RecordWriter struct {
	w   io.Writer
	buf []byte // reused frame buffer
	err error  // sticky
}

// NewRecordWriter returns a RecordWriter that writes to w. It does not buffer:
// wrap w in a bufio.Writer for small records.
func NewRecordWriter(w io.Writer) *RecordWriter {
	return &RecordWriter{w: w}
}

// WriteRecord writes p as one record. A short write is reported as
// io.ErrShortWrite. WriteRecord does not allocate once its internal buffer
// has grown to the largest record written.
func (rw *RecordWriter) WriteRecord(p []byte) error {
	if rw.err != nil {
		return rw.err
	}
	if len(p) > MaxRecordSize {
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrRecordTooLarge, len(p), MaxRecordSize)
	}
	rw.buf = AppendRecord(rw.buf[:0], p)
	n, err := rw.w.Write(rw.buf)
	if err == nil && n < len(rw.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		rw.err = fmt.Errorf("tbwriter: write record: %w", err)
	}
	return rw.err
}

// A RecordReader reads framed records from an io.Reader. It tells a clean end
// of input (io.EOF) from a file that ends inside a record (a *TornError,
// which matches io.ErrUnexpectedEOF), a corrupt length ([ErrLengthCRC]) and a
// corrupt payload ([ErrDataCRC]). After an error every later Next returns it.
//
// A hostile length field never makes it allocate more than the bytes actually
// present: when the reader has a Stat method (an *os.File) it compares the
// length with the bytes left in the file; otherwise it reads the payload in
// chunks of at most 64 KiB, growing the buffer only as data arrives.
type RecordReader struct {
	r    io.Reader
	stat func() (fs.FileInfo, error) // set when reading a file
	base int64                       // file position of offset 0
	off  int64                       // offset of the next record
	hdr  [headerSize]byte
	buf  []byte
	err  error
}

// NewRecordReader returns a RecordReader reading from r, whose current
// position is taken as offset 0. When r is a file (it has Stat and Seek
// methods, like *os.File) the reader buffers it and reads ahead, so r must
// not be used directly afterwards.
func NewRecordReader(r io.Reader) *RecordReader {
	rr := &RecordReader{r: r}
	s, hasStat := r.(interface{ Stat() (fs.FileInfo, error) })
	seeker, hasSeek := r.(io.Seeker)
	if hasStat && hasSeek {
		if pos, err := seeker.Seek(0, io.SeekCurrent); err == nil {
			rr.stat = s.Stat
			rr.base = pos
			rr.r = bufio.NewReaderSize(r, readChunkMax)
		}
	}
	return rr
}

// Offset returns the byte offset of the start of the record that the next
// call to Next will read or, after an error, of the record it failed on.
func (rr *RecordReader) Offset() int64 { return rr.off }

// Next returns the payload of the next record. The slice is valid until the
// following call to Next. At a clean end of input it returns io.EOF.
func (rr *RecordReader) Next() ([]byte, error) {
	if rr.err != nil {
		return nil, rr.err
	}
	p, err := rr.next()
	if err != nil {
		rr.err = err
		return nil, err
	}
	rr.off += int64(recordFrame + len(p))
	return p, nil
}

func (rr *RecordReader) next() ([]byte, error) {
	n, err := io.ReadFull(rr.r, rr.hdr[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err == io.ErrUnexpectedEOF {
		return nil, &TornError{Part: "header", Have: int64(n), Want: headerSize}
	}
	if err != nil {
		return nil, err
	}
	length := binary.LittleEndian.Uint64(rr.hdr[:lenSize])
	want := MaskedCRC(binary.LittleEndian.Uint32(rr.hdr[lenSize:]))
	if got := ComputeMaskedCRC(rr.hdr[:lenSize]); got != want {
		return nil, fmt.Errorf("%w (stored %#08x, computed %#08x)", ErrLengthCRC, uint32(want), uint32(got))
	}
	// Total bytes this record needs, saturating instead of overflowing.
	total := int64(math.MaxInt64)
	if length <= math.MaxInt64-recordFrame {
		total = int64(length) + recordFrame
	}
	if length > MaxRecordSize {
		// Larger than anything we accept: report the truthful reason
		// when the file cannot hold it, else a plain limit error.
		if left, ok := rr.bytesLeft(); ok && left < total-headerSize {
			return nil, &TornError{Part: "data", Have: headerSize + left, Want: total}
		}
		return nil, fmt.Errorf("%w: record length %d exceeds limit %d", ErrRecordTooLarge, length, MaxRecordSize)
	}
	if length > readChunkMax {
		// Only large records need the check: smaller ones are read
		// with one bounded allocation anyway.
		if left, ok := rr.bytesLeft(); ok && left < int64(length) {
			return nil, &TornError{Part: "data", Have: headerSize + left, Want: total}
		}
	}
	if err := rr.readPayload(int(length)); err != nil {
		return nil, err
	}
	var foot [footerSize]byte
	n, err = io.ReadFull(rr.r, foot[:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, &TornError{Part: "data crc", Have: headerSize + int64(length) + int64(n), Want: total}
	}
	if err != nil {
		return nil, err
	}
	want = MaskedCRC(binary.LittleEndian.Uint32(foot[:]))
	if got := ComputeMaskedCRC(rr.buf); got != want {
		return nil, fmt.Errorf("%w (stored %#08x, computed %#08x)", ErrDataCRC, uint32(want), uint32(got))
	}
	return rr.buf, nil
}

// bytesLeft reports how many bytes of the file follow the current record's
// header, when the underlying reader is a regular file.
func (rr *RecordReader) bytesLeft() (int64, bool) {
	if rr.stat == nil {
		return 0, false
	}
	fi, err := rr.stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return max(fi.Size()-(rr.base+rr.off+headerSize), 0), true
}

// readPayload reads exactly n bytes into rr.buf, growing the buffer at most
// readChunkMax bytes ahead of the data actually read.
func (rr *RecordReader) readPayload(n int) error {
	rr.buf = rr.buf[:0]
	for len(rr.buf) < n {
		step := min(n-len(rr.buf), readChunkMax)
		if cap(rr.buf)-len(rr.buf) < step {
			grown := make([]byte, len(rr.buf), len(rr.buf)+max(step, min(len(rr.buf), n-len(rr.buf))))
			copy(grown, rr.buf)
			rr.buf = grown
		}
		m, err := io.ReadFull(rr.r, rr.buf[len(rr.buf):len(rr.buf)+step])
		rr.buf = rr.buf[:len(rr.buf)+m]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return &TornError{Part: "data", Have: headerSize + int64(len(rr.buf)), Want: int64(n) + recordFrame}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
