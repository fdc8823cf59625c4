package tbwriter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// readAll reads every record of r, copying payloads, and returns them with
// the reader's final offset and error.
func readAll(r io.Reader) ([][]byte, int64, error) {
	rr := NewRecordReader(r)
	var out [][]byte
	for {
		p, err := rr.Next()
		if err != nil {
			return out, rr.Offset(), err
		}
		out = append(out, append([]byte{}, p...))
	}
}

func TestRecordRoundTrip(t *testing.T) {
	payloads := [][]byte{{}, []byte("a"), bytes.Repeat([]byte("xyz"), 1000), make([]byte, 200000)}
	var buf bytes.Buffer
	w := NewRecordWriter(&buf)
	for _, p := range payloads {
		if err := w.WriteRecord(p); err != nil {
			t.Fatal(err)
		}
	}
	wantSize := 0
	for _, p := range payloads {
		wantSize += len(p) + 16
	}
	if buf.Len() != wantSize {
		t.Fatalf("wrote %d bytes, want %d", buf.Len(), wantSize)
	}
	// Read through a one-byte-at-a-time reader to exercise short reads.
	got, off, err := readAll(iotest.OneByteReader(bytes.NewReader(buf.Bytes())))
	if err != io.EOF {
		t.Fatalf("final error = %v, want io.EOF", err)
	}
	if off != int64(wantSize) {
		t.Errorf("final offset = %d, want %d", off, wantSize)
	}
	if diff := cmp.Diff(payloads, got); diff != "" {
		t.Errorf("payloads differ (-want +got):\n%s", diff)
	}
}

// TestRecordFrameBytes checks the exact bytes of one record against the
// layout in tf_record.rs: u64 LE length, masked CRC of those 8 bytes, data,
// masked CRC of the data.
func TestRecordFrameBytes(t *testing.T) {
	// Payload and data CRC from masked_crc.rs's real record.
	p := []byte("\x1a\x11CRC test, one two")
	got := AppendRecord(nil, p)
	want := binary.LittleEndian.AppendUint64(nil, 19)
	want = binary.LittleEndian.AppendUint32(want, uint32(ComputeMaskedCRC(want)))
	want = append(want, p...)
	want = append(want, 0x8a, 0xd0, 0x94, 0x57) // 0x5794d08a little-endian
	if !bytes.Equal(got, want) {
		t.Errorf("AppendRecord = % x\nwant            % x", got, want)
	}
}

// TestRecordTruncation cuts a three-record stream at every byte boundary and
// checks the reader returns the whole records before the cut, then io.EOF at
// record boundaries and a torn-tail error (naming the right part) elsewhere.
func TestRecordTruncation(t *testing.T) {
	payloads := [][]byte{[]byte("first"), {}, []byte("third record")}
	var full []byte
	var starts []int
	for _, p := range payloads {
		starts = append(starts, len(full))
		full = AppendRecord(full, p)
	}
	starts = append(starts, len(full))
	for cut := 0; cut <= len(full); cut++ {
		// Whole records before the cut.
		whole := 0
		for whole < len(payloads) && starts[whole+1] <= cut {
			whole++
		}
		for _, name := range []string{"reader", "file"} {
			var r io.Reader = bytes.NewReader(full[:cut])
			if name == "file" {
				path := filepath.Join(t.TempDir(), "cut")
				if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				r = f
			}
			got, off, err := readAll(r)
			if diff := cmp.Diff(payloads[:whole], got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s cut %d: records differ (-want +got):\n%s", name, cut, diff)
			}
			if off != int64(starts[whole]) {
				t.Errorf("%s cut %d: offset = %d, want %d", name, cut, off, starts[whole])
			}
			if cut == starts[whole] {
				if err != io.EOF {
					t.Errorf("%s cut %d: err = %v, want io.EOF", name, cut, err)
				}
				continue
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s cut %d: err = %v, want io.ErrUnexpectedEOF", name, cut, err)
				continue
			}
			var te *TornError
			if !errors.As(err, &te) {
				t.Fatalf("%s cut %d: err %T is not *TornError", name, cut, err)
			}
			into := cut - starts[whole]
			n := len(payloads[whole])
			wantPart := "data crc"
			switch {
			case into < 12:
				wantPart = "header"
			case into < 12+n:
				wantPart = "data"
			}
			if te.Part != wantPart {
				t.Errorf("%s cut %d (%d bytes into a %d-byte record): part %q, want %q", name, cut, into, n+16, te.Part, wantPart)
			}
		}
	}
}

func TestRecordCorruption(t *testing.T) {
	rec0 := AppendRecord(nil, []byte("ok"))
	rec1 := AppendRecord(nil, []byte("payload"))
	full := append(bytes.Clone(rec0), rec1...)
	tests := []struct {
		name    string
		flip    int // byte of rec1 to flip
		wantErr error
	}{
		{"length", 0, ErrLengthCRC},
		{"length crc", 9, ErrLengthCRC},
		{"data", 12, ErrDataCRC},
		{"data crc", len(rec1) - 1, ErrDataCRC},
	}
	for _, tt := range tests {
		b := bytes.Clone(full)
		b[len(rec0)+tt.flip] ^= 0x40
		got, off, err := readAll(bytes.NewReader(b))
		if len(got) != 1 || string(got[0]) != "ok" {
			t.Errorf("%s: got records %q, want [ok]", tt.name, got)
		}
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if off != int64(len(rec0)) {
			t.Errorf("%s: offset = %d, want %d", tt.name, off, len(rec0))
		}
		// The error is sticky.
		rr := NewRecordReader(bytes.NewReader(b))
		rr.Next()
		_, err1 := rr.Next()
		_, err2 := rr.Next()
		if err1 == nil || err1 != err2 {
			t.Errorf("%s: second Next error %v, want sticky %v", tt.name, err2, err1)
		}
	}
}

// TestRecordHostileLength gives the reader a header with a valid CRC and an
// enormous length: it must report a torn tail without allocating the length.
func TestRecordHostileLength(t *testing.T) {
	for _, length := range []uint64{1 << 20, 1 << 29, 1<<30 + 1, 1 << 40, 1<<64 - 1, 1<<64 - 16} {
		hdr := binary.LittleEndian.AppendUint64(nil, length)
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(ComputeMaskedCRC(hdr)))
		data := append(hdr, []byte("only a few bytes follow")...)

		path := filepath.Join(t.TempDir(), "hostile")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"file", "reader"} {
			var r io.Reader = f
			if name == "reader" {
				r = bytes.NewReader(data)
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			_, err := NewRecordReader(r).Next()
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrRecordTooLarge) {
				t.Errorf("%s length %d: err = %v, want torn tail or too large", name, length, err)
			}
			if name == "file" && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("file length %d: err = %v, want io.ErrUnexpectedEOF (the file is too short)", length, err)
			}
		}
		f.Close()
	}
}

func TestRecordHostileLengthMemory(t *testing.T) {
	// 512 MiB claimed, 100 bytes present, through a plain io.Reader: the
	// reader may allocate at most one chunk beyond the data.
	hdr := binary.LittleEndian.AppendUint64(nil, 512<<20)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(ComputeMaskedCRC(hdr)))
	data := append(hdr, make([]byte, 100)...)
	rr := NewRecordReader(struct{ io.Reader }{bytes.NewReader(data)})
	_, err := rr.Next()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if c := cap(rr.buf); c > readChunkMax {
		t.Errorf("buffer grew to %d bytes for 100 bytes of data (limit one %d-byte chunk)", c, readChunkMax)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestRecordWriterStickyError(t *testing.T) {
	w := NewRecordWriter(&failWriter{n: 1})
	if err := w.WriteRecord([]byte("a")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	err1 := w.WriteRecord([]byte("b"))
	if err1 == nil {
		t.Fatal("second write succeeded on a failing writer")
	}
	if err2 := w.WriteRecord([]byte("c")); err2 != err1 {
		t.Errorf("third write err = %v, want sticky %v", err2, err1)
	}
	// A writer that reports a short count without an error.
	w = NewRecordWriter(shortWriter{})
	if err := w.WriteRecord([]byte("payload")); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("short write err = %v, want io.ErrShortWrite", err)
	}
}

func TestRecordWriterNoAllocs(t *testing.T) {
	w := NewRecordWriter(io.Discard)
	p := make([]byte, 100)
	w.WriteRecord(p)
	if n := testing.AllocsPerRun(100, func() { w.WriteRecord(p) }); n != 0 {
		t.Errorf("WriteRecord allocates %v times per call, want 0", n)
	}
}

func FuzzRecordReader(f *testing.F) {
	f.Add(AppendRecord(AppendRecord(nil, []byte("hello")), nil))
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	if data, err := os.ReadFile(filepath.Join(fixtures, "damaged", "garbage_payload", "events.out.tfevents.1795952040.vm.13683.0")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := NewRecordReader(bytes.NewReader(data))
		var rebuilt []byte
		for {
			p, err := rr.Next()
			if err != nil {
				if err == io.EOF && rr.Offset() != int64(len(data)) {
					t.Fatalf("io.EOF at offset %d of %d", rr.Offset(), len(data))
				}
				break
			}
			rebuilt = AppendRecord(rebuilt, p)
			if rr.Offset() != int64(len(rebuilt)) {
				t.Fatalf("offset %d after %d bytes of records", rr.Offset(), len(rebuilt))
			}
		}
		// Every record read re-frames to exactly the input bytes it came from.
		if !bytes.Equal(rebuilt, data[:len(rebuilt)]) {
			t.Fatalf("re-framed records differ from the input prefix")
		}
		if int64(len(rebuilt)) != rr.Offset() {
			t.Fatalf("stopped at offset %d, records cover %d bytes", rr.Offset(), len(rebuilt))
		}
	})
}

func TestRecordReaderIOError(t *testing.T) {
	boom := errors.New("device gone")
	rec := appendScalarRecord(nil, 1, 2, "x", 3, nil)
	rr := NewRecordReader(io.MultiReader(bytes.NewReader(rec), iotest.ErrReader(boom)))
	if _, err := rr.Next(); err != nil {
		t.Fatalf("first record: %v", err)
	}
	_, err1 := rr.Next()
	if !errors.Is(err1, boom) {
		t.Errorf("Next after the data = %v, want the reader's error", err1)
	}
	if _, err2 := rr.Next(); err2 != err1 {
		t.Errorf("error not sticky: %v then %v", err1, err2)
	}
	events, err := ReadEvents(io.MultiReader(bytes.NewReader(rec), iotest.ErrReader(boom)), "dev")
	var fe *FileError
	if len(events) != 1 || !errors.As(err, &fe) || fe.Path != "dev" || fe.Offset != int64(len(rec)) || !errors.Is(err, boom) {
		t.Errorf("ReadEvents = %d events, %v; want 1 event and a *FileError{dev, %d, %v}", len(events), err, len(rec), boom)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want os.ErrNotExist", err)
	}
}
