package kern

import "errors"

// Errors of [SetPath].
var (
	// ErrUnknownPath: the name is not one of the code paths of this package.
	ErrUnknownPath = errors.New("unknown code path")
	// ErrPathUnavailable: the code path exists but cannot run on this
	// processor or in this build.
	ErrPathUnavailable = errors.New("code path unavailable")
)
