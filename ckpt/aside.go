package ckpt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/storage"
)

// AsideRecord is the name of the file in a run directory that records an
// unfinished [SetAside]: which checkpoints are being renamed, and to what.
const AsideRecord = ".tbtrain-setaside"

// asideHeader is the first line of an [AsideRecord]; each following line is
// "<from>\t<to>\n", two file names in the directory.
const asideHeader = "tbtrain set-aside 1\n"

// maxAsideRecord bounds how much of an [AsideRecord] is read: a line per
// checkpoint of at most a few hundred bytes, for runs of tens of thousands of
// checkpoints; anything longer is not ours.
const maxAsideRecord = 16 << 20

// Move renames the checkpoint From to To, both file names in one directory.
type Move struct{ From, To string }

// SetAside renames checkpoint files of dir as one decision that survives a
// crash. It first commits the list of moves to [AsideRecord] (atomically and
// durably, as [Save] commits a checkpoint), then renames each file in the
// order given, syncs the directory and removes the record. A kill at any
// moment leaves either no record and no file renamed, or the record and any
// subset of the renames done; while a record exists, [List] marks the files
// it names as Aside, [Newest] never returns them and [Prune] never deletes
// them, so the set-aside files never come back as the newest checkpoint. A
// later SetAside (its moves may be empty) replaces an unfinished record:
// files named by the old record and not by the new one are no longer aside.
//
// A move whose From no longer exists was done before; a move whose To
// exists is an error (SetAside never replaces a file). done, if not nil, is
// called after each rename.
func SetAside(dir string, moves []Move, done func(Move)) error {
	var b bytes.Buffer
	b.WriteString(asideHeader)
	for _, m := range moves {
		if err := checkName(m.From); err != nil {
			return &Error{Op: "set aside", Path: locJoin(dir, m.From), Err: err}
		}
		if err := checkName(m.To); err != nil {
			return &Error{Op: "set aside", Path: locJoin(dir, m.To), Err: err}
		}
		fmt.Fprintf(&b, "%s\t%s\n", m.From, m.To)
	}
	record := locJoin(dir, AsideRecord)
	if len(moves) == 0 {
		return removeRecord(dir, record)
	}
	if err := commitFile(record, b.Bytes()); err != nil {
		return err
	}
	for i, m := range moves {
		if i > 0 {
			// Widen the window between renames for crash tests
			// (internal/faultinject; never set outside tests).
			time.Sleep(faultinject.CommitDelay())
		}
		from, to := locJoin(dir, m.From), locJoin(dir, m.To)
		if storage.IsURL(dir) {
			// Objects cannot be renamed: copy, then delete. A crash
			// between the two left both; finish that move.
			fromThere, err := existsObject(from)
			if err != nil {
				return &Error{Op: "set aside", Path: from, Err: err}
			}
			if !fromThere {
				continue
			}
			if toThere, err := existsObject(to); err != nil {
				return &Error{Op: "set aside", Path: to, Err: err}
			} else if toThere && !sameObject(from, to) {
				return &Error{Op: "set aside", Path: from, Err: fmt.Errorf("%s already exists", to)}
			}
			if err := moveObject(from, to); err != nil {
				return &Error{Op: "set aside", Path: from, Err: err}
			}
			if done != nil {
				done(m)
			}
			continue
		}
		if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := os.Lstat(to); err == nil {
			return &Error{Op: "set aside", Path: from, Err: fmt.Errorf("%s already exists", to)}
		}
		if err := hooks.rename(from, to); err != nil {
			return &Error{Op: "set aside", Path: from, Err: err}
		}
		if done != nil {
			done(m)
		}
	}
	// The renames are durable before the record that covers them goes
	// (an object store's copies and deletes are durable when they return).
	if storage.IsURL(dir) {
		return removeRecord(dir, record)
	}
	if err := hooks.syncDir(dir); err != nil {
		return &Error{Op: "set aside", Path: dir, Err: fmt.Errorf("syncing the directory: %w", err)}
	}
	return removeRecord(dir, record)
}

func removeRecord(dir, record string) error {
	if storage.IsURL(dir) {
		if err := removeObject(record); err != nil {
			return &Error{Op: "set aside", Path: record, Err: err}
		}
		return nil
	}
	if _, err := os.Lstat(record); errors.Is(err, fs.ErrNotExist) {
		return nil // nothing to remove (and a read-only file system would refuse the attempt)
	}
	if err := hooks.remove(record); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return &Error{Op: "set aside", Path: record, Err: err}
	}
	if err := hooks.syncDir(dir); err != nil {
		return &Error{Op: "set aside", Path: dir, Err: fmt.Errorf("syncing the directory: %w", err)}
	}
	return nil
}

// PendingAside returns the moves of an unfinished [SetAside] in dir (nil if
// there is none). A record that cannot be read or parsed is an error naming
// it: it is only ever written atomically, so it was damaged from outside.
func PendingAside(dir string) ([]Move, error) {
	record := locJoin(dir, AsideRecord)
	if storage.IsURL(dir) {
		st, key, err := storage.For(record)
		if err != nil {
			return nil, &Error{Op: "list", Path: record, Err: err}
		}
		b, err := st.Get(context.Background(), key, 0, maxAsideRecord+1)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, &Error{Op: "list", Path: record, Err: err}
		}
		moves, err := parseAside(bytes.NewReader(b))
		if err != nil {
			return nil, &Error{Op: "list", Path: record, Err: fmt.Errorf("%w: set-aside record: %v", ErrCorrupt, err)}
		}
		return moves, nil
	}
	f, err := os.Open(record)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{Op: "list", Path: record, Err: err}
	}
	defer f.Close()
	moves, err := parseAside(io.LimitReader(f, maxAsideRecord+1))
	if err != nil {
		return nil, &Error{Op: "list", Path: record, Err: fmt.Errorf("%w: set-aside record: %v", ErrCorrupt, err)}
	}
	return moves, nil
}

func parseAside(r io.Reader) ([]Move, error) {
	br := bufio.NewReader(r)
	head, err := br.ReadString('\n')
	if err != nil || head != asideHeader {
		return nil, fmt.Errorf("first line %q, want %q", strings.TrimSuffix(head, "\n"), strings.TrimSuffix(asideHeader, "\n"))
	}
	var moves []Move
	read := int64(len(head))
	for n := 2; ; n++ {
		line, err := br.ReadString('\n')
		read += int64(len(line))
		if read > maxAsideRecord {
			return nil, fmt.Errorf("longer than %d bytes", maxAsideRecord)
		}
		if err == io.EOF && line == "" {
			return moves, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		from, to, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if !ok {
			return nil, fmt.Errorf("line %d: no tab", n)
		}
		for _, name := range []string{from, to} {
			if err := checkName(name); err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
		}
		moves = append(moves, Move{From: from, To: to})
	}
}

// checkName accepts a plain file name: not empty, not "." or "..", no path
// separator, tab, newline or NUL, valid UTF-8.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || !utf8.ValidString(name) ||
		strings.ContainsAny(name, "/\\\t\n\x00") {
		return fmt.Errorf("%q is not a plain file name", name)
	}
	return nil
}
