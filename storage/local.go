package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tbtrain/tbtrain/internal/errpath"
	"github.com/tbtrain/tbtrain/internal/faultinject"
)

// Local is the [Store] of local files: a key is a file path (relative to the
// working directory, or absolute) written with '/' separators. Its zero value
// is ready to use.
type Local struct {
	// FS performs the steps of Put, PutNew and Delete; nil means the
	// operating system's ([OSFS]). Tests substitute one that fails at a
	// chosen step (ENOSPC, EACCES, EIO).
	FS LocalFS
}

var (
	_ Store    = Local{}
	_ Appender = Local{}
)

// LocalFS is the file-system operations of a [Local] commit.
type LocalFS interface {
	// CreateTemp creates a new file in dir, named by pattern as
	// os.CreateTemp does, with permission [FilePerm].
	CreateTemp(dir, pattern string) (TempFile, error)
	Rename(oldpath, newpath string) error
	Link(oldpath, newpath string) error
	// SyncDir makes the entries of dir durable (see the package doc).
	SyncDir(dir string) error
	Remove(name string) error
}

// TempFile is the part of *os.File a commit uses. Its Sync is the
// platform's strongest data sync (fdatasync on Linux, F_FULLFSYNC on macOS).
type TempFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
	Name() string
}

// OSFS returns the operating system's [LocalFS].
func OSFS() LocalFS { return osFS{} }

type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (TempFile, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	// CreateTemp makes the file 0600; what we store is no secret, so give
	// it the usual permissions of a data file.
	if err := f.Chmod(FilePerm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
func (osFS) Link(oldpath, newpath string) error   { return os.Link(oldpath, newpath) }
func (osFS) SyncDir(dir string) error             { return syncDir(dir) }
func (osFS) Remove(name string) error             { return os.Remove(name) }

// osFile is the real TempFile: an *os.File whose Sync is the platform's
// strongest data sync (see syncFile in sync_*.go).
type osFile struct{ *os.File }

func (f osFile) Sync() error { return syncFile(f.File) }

var _ TempFile = osFile{}

func (l Local) fs() LocalFS {
	if l.FS == nil {
		return osFS{}
	}
	return l.FS
}

// FilePerm is the permission of the files [Local] creates; DirPerm that of
// the directories it creates for them.
const (
	FilePerm fs.FileMode = 0o644
	DirPerm  fs.FileMode = 0o755
)

// Temp files of a Put are named "." + <final name> + ".tmp-" + <digits>:
// hidden, and recognisable by [IsTemp].
const (
	tempPrefix = "."
	tempInfix  = ".tmp-"
)

// IsTemp reports whether a file name (without directory) is that of a temp
// file of [Local.Put] or [Local.PutNew]: "." + final name + ".tmp-" + the
// decimal digits os.CreateTemp substitutes for its "*". A crash leaves at
// most one such file per interrupted Put.
func IsTemp(name string) bool {
	i := strings.LastIndex(name, tempInfix)
	if !strings.HasPrefix(name, tempPrefix) || i < len(tempPrefix) {
		return false
	}
	digits := name[i+len(tempInfix):]
	if digits == "" {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func localErr(op, key string, err error) error {
	return &Error{Op: op, Backend: "local", Key: key, Err: err}
}

// file returns the file path of key, or ErrInvalidKey.
func (Local) file(key string) (string, error) {
	if key == "" || strings.HasSuffix(key, "/") {
		return "", ErrInvalidKey
	}
	return filepath.FromSlash(key), nil
}

// Put writes data to the file key in this order: create a temp file in the
// same directory (making the directory and its parents if missing), write,
// fsync (fdatasync on Linux, F_FULLFSYNC on macOS), close, rename over key,
// fsync the directory. A crash at any point leaves the old file or the
// complete new one under key, plus at most a hidden temp file ([IsTemp])
// that [Local.CleanTemp] removes. When a step fails the temp file is removed
// and the file at key is as it was.
func (l Local) Put(ctx context.Context, key string, data []byte) error {
	return l.put(ctx, "put", key, data, l.fs().Rename)
}

// PutNew is [Local.Put] committing with link(2) instead of rename(2): link
// fails if key exists, so of two writers exactly one wins, and key never
// holds a partial file.
func (l Local) PutNew(ctx context.Context, key string, data []byte) error {
	return l.put(ctx, "putnew", key, data, func(tmp, dst string) error {
		if err := l.fs().Link(tmp, dst); err != nil {
			return err
		}
		return l.fs().Remove(tmp)
	})
}

func (l Local) put(ctx context.Context, op, key string, data []byte, commit func(tmp, dst string) error) (err error) {
	file, err := l.file(key)
	if err != nil {
		return localErr(op, key, err)
	}
	if err := ctx.Err(); err != nil {
		return localErr(op, key, err)
	}
	dir, base := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	fsys := l.fs()
	f, err := fsys.CreateTemp(dir, tempPrefix+base+tempInfix+"*")
	if errors.Is(err, fs.ErrNotExist) {
		if merr := os.MkdirAll(dir, DirPerm); merr != nil {
			return localErr(op, key, fmt.Errorf("making directory %s: %w", dir, errpath.Bare(merr, dir, filepath.Clean(dir))))
		}
		f, err = fsys.CreateTemp(dir, tempPrefix+base+tempInfix+"*")
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return localErr(op, key, fmt.Errorf("creating temp file %s: %w", pe.Path, errpath.Bare(err, pe.Path)))
		}
		return localErr(op, key, fmt.Errorf("creating temp file: %w", err))
	}
	closed, committed := false, false
	defer func() {
		if committed {
			return
		}
		if !closed {
			f.Close()
		}
		fsys.Remove(f.Name())
	}()
	fail := func(step string, err error) error {
		return localErr(op, key, fmt.Errorf("%s temp file %s: %w", step, f.Name(), errpath.Bare(err, f.Name(), file)))
	}
	if err := write(f, data); err != nil {
		return fail("writing", err)
	}
	if err := f.Sync(); err != nil {
		return fail("syncing", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fail("closing", err)
	}
	if err := commit(f.Name(), file); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return localErr(op, key, fs.ErrExist)
		}
		return fail("renaming", err)
	}
	committed = true
	if err := fsys.SyncDir(dir); err != nil {
		return localErr(op, key, fmt.Errorf("syncing directory %s after rename: %w", dir, errpath.Bare(err, dir, filepath.Clean(dir))))
	}
	return nil
}

// write writes b to f, pausing in the middle when a crash test has set the
// commit delay (internal/faultinject; never set outside tests), which widens
// the window in which a kill leaves a torn temp file behind.
func write(f TempFile, b []byte) error {
	if d := faultinject.CommitDelay(); d > 0 {
		half := len(b) / 2
		if _, err := f.Write(b[:half]); err != nil {
			return err
		}
		time.Sleep(d)
		b = b[half:]
	}
	_, err := f.Write(b)
	return err
}

// Get reads n bytes of the file key from off (n < 0: to the end).
func (l Local) Get(ctx context.Context, key string, off, n int64) ([]byte, error) {
	file, err := l.file(key)
	if err != nil {
		return nil, localErr("get", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, localErr("get", key, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, localErr("get", key, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, localErr("get", key, err)
	}
	if st.IsDir() {
		return nil, localErr("get", key, errors.New("is a directory"))
	}
	size := st.Size()
	if off >= size || off < 0 {
		if off < 0 {
			return nil, localErr("get", key, fmt.Errorf("negative offset %d", off))
		}
		return []byte{}, nil
	}
	if n < 0 || n > size-off {
		n = size - off
	}
	b := make([]byte, n)
	m, err := f.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, localErr("get", key, err)
	}
	return b[:m], nil
}

// Stat describes the file or directory key, following symbolic links.
func (l Local) Stat(ctx context.Context, key string) (Info, error) {
	file, err := l.file(key)
	if err != nil {
		return Info{}, localErr("stat", key, err)
	}
	st, err := os.Stat(file)
	if err != nil {
		return Info{}, localErr("stat", key, err)
	}
	return localInfo(key, st), nil
}

func localInfo(key string, st fs.FileInfo) Info {
	i := Info{Key: key, ModTime: st.ModTime(), Dir: st.IsDir()}
	if !i.Dir {
		i.Size = st.Size()
	}
	return i
}

// List lists the directory dir ("" is the working directory), following
// symbolic links; dangling links, temp files of Put ([IsTemp]) and what is
// neither a regular file nor a directory are left out.
func (l Local) List(ctx context.Context, dir string) ([]Info, error) {
	d := filepath.FromSlash(dir)
	if d == "" {
		d = "."
	}
	if err := ctx.Err(); err != nil {
		return nil, localErr("list", dir, err)
	}
	ents, err := os.ReadDir(d)
	if err != nil {
		return nil, localErr("list", dir, err)
	}
	out := make([]Info, 0, len(ents))
	for _, e := range ents {
		if IsTemp(e.Name()) {
			continue
		}
		key := e.Name()
		if dir != "" {
			key = path.Join(dir, e.Name())
		}
		st, err := os.Stat(filepath.Join(d, e.Name())) // follows links
		if err != nil || !(st.IsDir() || st.Mode().IsRegular()) {
			continue
		}
		out = append(out, localInfo(key, st))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete removes the file key; a missing file is not an error.
func (l Local) Delete(ctx context.Context, key string) error {
	file, err := l.file(key)
	if err != nil {
		return localErr("delete", key, err)
	}
	if err := l.fs().Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return localErr("delete", key, err)
	}
	return nil
}

// Location returns key as a file path.
func (Local) Location(key string) string { return filepath.FromSlash(key) }

// Append creates the file key exclusively (O_EXCL), making its directory if
// missing, and returns it for appending. Its Sync is fdatasync on Linux
// (F_FULLFSYNC on macOS). Creating the file fsyncs nothing: the first Sync
// makes the data durable, and the file's directory entry is durable once
// the directory is synced (a later Put into the same directory does that).
func (l Local) Append(ctx context.Context, key string) (AppendFile, error) {
	file, err := l.file(key)
	if err != nil {
		return nil, localErr("append", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, localErr("append", key, err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FilePerm)
	if errors.Is(err, fs.ErrNotExist) {
		if merr := os.MkdirAll(filepath.Dir(file), DirPerm); merr != nil {
			return nil, localErr("append", key, fmt.Errorf("making directory: %w", merr))
		}
		f, err = os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FilePerm)
	}
	if err != nil {
		return nil, localErr("append", key, err)
	}
	return osFile{f}, nil
}

// CleanTemp removes the temp files that interrupted Put calls left in the
// directory dir. Only one process may write into a directory at a time:
// CleanTemp would also remove the temp file of a Put in progress (which then
// fails cleanly, leaving the previous file in place).
func (l Local) CleanTemp(dir string) error {
	d := filepath.FromSlash(dir)
	if d == "" {
		d = "."
	}
	ents, err := os.ReadDir(d)
	if err != nil {
		return localErr("clean", dir, err)
	}
	var errs []error
	for _, de := range ents {
		if !IsTemp(de.Name()) || !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(d, de.Name())
		if err := l.fs().Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, localErr("clean", filepath.ToSlash(p), err))
		}
	}
	return errors.Join(errs...)
}
