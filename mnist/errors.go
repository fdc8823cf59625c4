package mnist

import "errors"

// Sentinel errors. Every error from [Load] and [LoadDefault] that concerns one
// file is a *[FileError] wrapping one of these, so callers can test the cause
// with errors.Is and get the file with errors.As.
var (
	// ErrNotFound means a data file (or the GoMNIST module directory) is missing.
	ErrNotFound = errors.New("mnist: file not found")
	// ErrFormat means a file is not an IDX file of the expected kind.
	ErrFormat = errors.New("mnist: not a valid IDX file")
	// ErrTruncated means a file ends before the data its header announces.
	ErrTruncated = errors.New("mnist: file truncated")
	// ErrChecksum means a file of the GoMNIST module does not have the SHA-256
	// sum recorded in this package.
	ErrChecksum = errors.New("mnist: SHA-256 mismatch")
	// ErrMismatch means the image and label files of one set disagree in count.
	ErrMismatch = errors.New("mnist: image and label counts differ")
)

// FileError reports a problem with one data file.
type FileError struct {
	Path string // the file (or directory) concerned
	Err  error  // the cause; wraps one of the sentinels above
	Hint string // what the user can do about it, if anything
}

// Error implements error.
func (e *FileError) Error() string {
	s := e.Path + ": " + e.Err.Error()
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

var _ error = (*FileError)(nil)
