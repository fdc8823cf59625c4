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

	// ErrRecordTooLarge is returned by RecordWriter.WriteRecord, and by the
	// Writer's Add methods, for a payload longer than MaxRecordSize (the
	// largest record the reader accepts). The Add methods queue nothing then.
	ErrRecordTooLarge = errors.New("tbwriter: record too large")

	// ErrNoRunDir is returned by the methods that write files beside the
	// event file (AddScalars, AddEmbedding) on a Writer made by NewWriter,
	// which has no run directory.
	ErrNoRunDir = errors.New("tbwriter: writer has no run directory (made by NewWriter, not Create)")

	// ErrTagKind is matched (errors.Is) by a *KindError: a value whose
	// plugin differs from the plugin of its tag's first value.
	ErrTagKind = errors.New("tbwriter: tag already logged with another kind")

	// ErrHParamsRepeated is returned for a second value of an hparams tag
	// (a second AddHParams, say) on one Writer. TensorBoard shows only the
	// first value of each hparams tag of a run, so a second one would be
	// silently ignored; nothing is queued.
	ErrHParamsRepeated = errors.New("tbwriter: hparams tag already written by this writer (TensorBoard shows only the first value)")
)

// KindError reports a value refused because its tag was first logged with
// another plugin (see [PluginName]). TensorBoard keeps a tag's first
// metadata, so the new value would be served by the old plugin, which fails
// on it. Nothing of the refused call is queued. It matches [ErrTagKind].
type KindError struct {
	Tag string
	// First is the plugin of the tag's first value, New the plugin of the
	// refused one ("" for a value of no plugin, such as a bare tensor).
	First, New string
}

func (e *KindError) Error() string {
	return fmt.Sprintf("tbwriter: tag %q was logged as %s; refusing %s under the same tag (TensorBoard shows a tag with its first kind only)",
		e.Tag, kindName(e.First), kindName(e.New))
}

// Is reports whether target is ErrTagKind.
func (e *KindError) Is(target error) bool { return target == ErrTagKind }

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
