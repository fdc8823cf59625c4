package errpath

import (
	"io/fs"
	"os"
	"slices"
)

// Bare returns err unchanged, unless err is an *fs.PathError whose Path, or
// an *os.LinkError whose Old and New, are all among named: then it returns an
// error whose text is only the underlying cause (e.g. "no space left on
// device") and which unwraps to err.
func Bare(err error, named ...string) error {
	switch e := err.(type) {
	case *fs.PathError:
		if slices.Contains(named, e.Path) {
			return &reworded{err: err, text: e.Err.Error()}
		}
	case *os.LinkError:
		if slices.Contains(named, e.Old) && slices.Contains(named, e.New) {
			return &reworded{err: err, text: e.Err.Error()}
		}
	}
	return err
}

// Reword returns an error that prints text and unwraps to err: for a caller
// whose message already says what err's text adds (typically the path of a
// wrapped error about that same path).
func Reword(err error, text string) error {
	if err == nil {
		return nil
	}
	return &reworded{err: err, text: text}
}

type reworded struct {
	err  error
	text string
}

func (r *reworded) Error() string { return r.text }
func (r *reworded) Unwrap() error { return r.err }
