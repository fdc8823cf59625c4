package ckpt

import (
	"errors"

	"github.com/tbtrain/tbtrain/internal/errpath"
)

// Sentinel errors. Errors about one file are *[Error]s wrapping one of these
// (or an error from the operating system), so callers test the cause with
// errors.Is and get the file with errors.As.
var (
	// ErrNotCheckpoint means the file is not a tbtrain checkpoint at all:
	// wrong magic number, or a directory or device where a file was expected.
	ErrNotCheckpoint = errors.New("ckpt: not a checkpoint file")
	// ErrTruncated means the file ends before the envelope says it should: an
	// empty file, a cut header or a short payload.
	ErrTruncated = errors.New("ckpt: checkpoint truncated")
	// ErrCorrupt means the file is damaged: a checksum does not match, the
	// payload does not decode, or bytes follow the envelope.
	ErrCorrupt = errors.New("ckpt: checkpoint corrupt")
	// ErrVersion means the file was written in an envelope or schema version
	// this build does not read (normally by a newer tbtrain).
	ErrVersion = errors.New("ckpt: unsupported checkpoint version")
	// ErrInvalid means the checkpoint decodes and verifies but its content is
	// inconsistent (e.g. a tensor whose data length disagrees with its shape).
	// Save refuses to write such a checkpoint.
	ErrInvalid = errors.New("ckpt: inconsistent checkpoint content")
	// ErrModel means the checkpoint belongs to another model or parameter
	// layout than the caller expects (see [CheckModel]).
	ErrModel = errors.New("ckpt: checkpoint is for a different model")
	// ErrNoCheckpoint means a directory holds no checkpoint that verifies.
	ErrNoCheckpoint = errors.New("ckpt: no valid checkpoint")
)

// Error records a failed operation on a checkpoint file or directory.
type Error struct {
	Op   string // "load", "save", "list", "prune", "clean"
	Path string // the file or directory
	Err  error  // the cause
}

// Error implements error, in the style of [io/fs.PathError]. The path is
// named once: when Err is the operating system's error about the same path
// (an *fs.PathError), only its cause follows ("load x.ckpt: no such file or
// directory", not "load x.ckpt: stat x.ckpt: no such file or directory").
func (e *Error) Error() string {
	return e.Op + " " + e.Path + ": " + errpath.Bare(e.Err, e.Path).Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

var _ error = (*Error)(nil)
