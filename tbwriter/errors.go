package tbwriter

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is; the reader wraps them in a
// [*FileError] that names the file and byte offset.
var (
	// ErrClosed is returned by every Writer method called after Close.
	ErrClosed = errors.New("tbwriter: writer is closed")

	// ErrLengthCRC means a record's length field does not match its
	// checksum (TensorBoard: "failed header crc32 check").
	ErrLengthCRC = errors.New("tbwriter: record length fails its CRC check")

	// ErrDataCRC means a record's payload does not match its checksum
	// (TensorBoard: "failed event crc32 check").
	ErrDataCRC = errors.New("tbwriter: record data fails its CRC check")

	// ErrNotEvent means a record is framed correctly (both CRCs match) but
	// its payload is not a valid Event protocol buffer. TensorBoard's
	// Python loader raises a DecodeError at such a record and loads nothing
	// more of that run.
	ErrNotEvent = errors.New("tbwriter: record payload is not an Event")

	// ErrRecordTooLarge is returned by RecordWriter.WriteRecord for a
	// payload that is longer than the writer's limit.
	ErrRecordTooLarge = errors.New("tbwriter: record too large")

	// ErrNoRunDir is returned by the methods that write files beside the
	// event file (AddScalars, AddEmbedding) on a Writer made by NewWriter,
	// which has no run directory.
	ErrNoRunDir = errors.New("tbwriter: writer has no run directory (made by NewWriter, not Create)")
)

// TornError describes a file that ends inside a record. It matches
// io.ErrUnexpectedEOF with errors.Is.
type TornError struct {
	// Part is where the data ran out: "header" (length or its CRC),
	// "data" (payload) or "data crc" (the payload's CRC), using
	// TensorBoard's wording ("has truncated record in ...").
	Part string
	// Have and Want are the bytes of the record present and needed.
	Have, Want int64
}

func (e *TornError) Error() string {
	return fmt.Sprintf("tbwriter: truncated record in %s (%d of %d bytes present)", e.Part, e.Have, e.Want)
}

// Is reports whether target is io.ErrUnexpectedEOF.
func (e *TornError) Is(target error) bool { return target == errUnexpectedEOF }

// FileError reports damage found while reading an event file: the file, the
// byte offset of the record that could not be read, and why.
type FileError struct {
	Path   string
	Offset int64
	Err    error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }
