package ptfile

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors about one file are *[Error]s wrapping one of these
// (or an error from the operating system), so callers test the cause with
// errors.Is and get the file with errors.As.
var (
	// ErrNotTorchFile means the file is not a torch.save zip archive: not a
	// zip file at all, or a zip file without a data.pkl record.
	ErrNotTorchFile = errors.New("ptfile: not a PyTorch (torch.save) file")
	// ErrForbidden means the pickle names a global outside the allow-list
	// (see [ForbiddenError]). Nothing of the file was executed.
	ErrForbidden = errors.New("ptfile: pickle names a forbidden global")
	// ErrUnsupported means the file is well formed but uses something this
	// package does not read: a pickle opcode torch.save's protocol 2 never
	// writes, a storage view of the legacy format, a tensor type other than float32
	// (or float64, float16, bfloat16, which convert to it)
	// where one is needed, a storage view with a broadcast stride.
	ErrUnsupported = errors.New("ptfile: unsupported PyTorch file content")
	// ErrCorrupt means the file is damaged: a truncated or malformed pickle,
	// a storage record missing or of the wrong size, a tensor that reaches
	// past its storage.
	ErrCorrupt = errors.New("ptfile: corrupt PyTorch file")
	// ErrLayout means the file loads but does not hold what the caller
	// needs: a checkpoint dict without model_state_dict, an optimizer state
	// of another shape, a state_dict whose names or shapes differ from the
	// model's (see [MismatchError]).
	ErrLayout = errors.New("ptfile: unexpected checkpoint layout")
)

// Error records a failed operation on a file.
type Error struct {
	Op   string // "read", "write"
	Path string // the file
	Err  error  // the cause
}

// Error implements error, in the style of [io/fs.PathError].
func (e *Error) Error() string { return "ptfile: " + e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ForbiddenError reports a pickle GLOBAL (a module attribute that unpickling
// would import and call) that is not on the allow-list. The loader stops at
// the first one, before building any object.
type ForbiddenError struct {
	Module, Name string // as written in the pickle, e.g. "posix", "system"
	Offset       int64  // byte offset of the GLOBAL opcode in Record
	// Record is where Offset counts from: "" for data.pkl (the zip
	// format), "file" for a file of the legacy format.
	Record string
}

func (e *ForbiddenError) Error() string {
	g := e.Global()
	if p := e.Python3(); p != g {
		g += " (" + p + " in Python 3)"
	}
	rec := e.Record
	if rec == "" {
		rec = "data.pkl"
	}
	return fmt.Sprintf("pickle global %s at %s offset %d is not allowed: a checkpoint only needs tensors, "+
		"storages, OrderedDict and plain containers; torch.load would have run it", g, rec, e.Offset)
}

// py2Modules maps the Python 2 module names that Python 3's pickle writes at
// protocols below 3 (Lib/_compat_pickle.py, REVERSE_IMPORT_MAPPING) back to
// their Python 3 names, for messages: a few of those a hostile pickle uses.
var py2Modules = map[string]string{
	"__builtin__": "builtins",
	"copy_reg":    "copyreg",
	"commands":    "subprocess",
}

// Python3 returns the global's Python 3 name: "builtins.eval" for the
// "__builtin__.eval" that a protocol-2 pickle holds.
func (e *ForbiddenError) Python3() string {
	if m, ok := py2Modules[e.Module]; ok {
		return m + "." + e.Name
	}
	return e.Global()
}

// Is reports whether target is ErrForbidden.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// Global returns "module.name".
func (e *ForbiddenError) Global() string { return e.Module + "." + e.Name }

// MismatchError lists every difference between a state_dict and the
// tensors a model expects, as PyTorch's load_state_dict reports missing and
// unexpected keys and size mismatches all at once.
type MismatchError struct {
	Missing    []string // names the model has and the file lacks
	Unexpected []string // names the file has and the model lacks
	Shape      []string // "name: file [6 1 5 5], model [6 1 3 3]"
}

func (e *MismatchError) Error() string {
	msg := "state_dict does not match the model:"
	add := func(what string, list []string) {
		if len(list) > 0 {
			msg += fmt.Sprintf(" %s %q;", what, list)
		}
	}
	add("missing", e.Missing)
	add("unexpected", e.Unexpected)
	add("size mismatch", e.Shape)
	return msg[:len(msg)-1]
}

// Is reports whether target is ErrLayout.
func (e *MismatchError) Is(target error) bool { return target == ErrLayout }

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

func layout(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrLayout}, args...)...)
}
