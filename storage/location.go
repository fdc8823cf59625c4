package storage

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// A location names a file or directory where tbtrain keeps a run: a local
// path ("runs/2026-11-29_12-00-00") or, for a store registered with
// [Register], a URL ("s3://bucket/prefix/2026-11-29_12-00-00"). The
// path-taking functions of ckpt, tbwriter and trainer accept both; [For]
// turns a location into its Store and key.

// Opener returns the Store of a URL of its scheme and the key the URL names.
type Opener func(url string) (Store, string, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes locations "scheme://..." resolve through open. Programs
// that accept S3 locations register s3store's opener at start-up (cmd/train,
// tbdump and ckptinfo do); a program that registers nothing handles local
// paths only and links no client of another backend. Registering a scheme
// again replaces the opener.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	openers[scheme] = open
}

// Scheme returns the URL scheme of loc ("s3" for "s3://b/k"), or "" for a
// local path. A Windows drive letter ("C:\x") is a path, not a scheme.
func Scheme(loc string) string {
	i := strings.Index(loc, "://")
	if i < 2 {
		return ""
	}
	for _, r := range loc[:i] {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '+' || r == '-' || r == '.') {
			return ""
		}
	}
	return loc[:i]
}

// IsURL reports whether loc is a URL rather than a local path.
func IsURL(loc string) bool { return Scheme(loc) != "" }

// For returns the Store holding loc and loc's key in it: [Local] and the
// path in slash form for a local path, the registered opener's answer for a
// URL. A URL of a scheme nobody registered is an error naming it. Trailing
// separators of a local path are dropped ("runs/" is the directory "runs",
// as shell completion writes it; a key never ends in "/"), except the one
// of a root ("/", `C:\`).
func For(loc string) (Store, string, error) {
	s := Scheme(loc)
	if s == "" {
		if loc == "" {
			return nil, "", fmt.Errorf("storage: empty location")
		}
		key := filepath.ToSlash(loc)
		root := len(filepath.VolumeName(loc)) + 1
		for len(key) > root && strings.HasSuffix(key, "/") {
			key = key[:len(key)-1]
		}
		return Local{}, key, nil
	}
	openersMu.RLock()
	open := openers[s]
	openersMu.RUnlock()
	if open == nil {
		return nil, "", fmt.Errorf("storage: %s: this program does not read or write %s:// locations", loc, s)
	}
	return open(loc)
}

// Stat describes the file or directory at loc: the Store [For] gives, asked
// for its key. An object store's prefix with objects below it is a
// directory.
func Stat(ctx context.Context, loc string) (Info, error) {
	st, key, err := For(loc)
	if err != nil {
		return Info{}, err
	}
	return st.Stat(ctx, key)
}

// Join joins a location and path elements: filepath.Join for a local path,
// and for a URL the elements joined with "/" after the URL's
// scheme://bucket (which filepath.Join would mangle into "s3:/bucket").
func Join(loc string, elem ...string) string {
	s := Scheme(loc)
	if s == "" {
		return filepath.Join(append([]string{loc}, elem...)...)
	}
	head := s + "://"
	rest := loc[len(head):]
	bucket, key, _ := strings.Cut(rest, "/")
	p := path.Join(append([]string{key}, elem...)...)
	p = strings.TrimPrefix(p, "/")
	if p == "" || p == "." {
		return head + bucket
	}
	return head + bucket + "/" + p
}

// Dir returns all but the last element of loc (filepath.Dir for a local
// path; for a URL the bucket itself when nothing is left).
func Dir(loc string) string {
	s := Scheme(loc)
	if s == "" {
		return filepath.Dir(loc)
	}
	head := s + "://"
	rest := strings.TrimRight(loc[len(head):], "/")
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return head + rest
	}
	return head + rest[:i]
}

// Base returns the last element of loc.
func Base(loc string) string {
	if Scheme(loc) == "" {
		return filepath.Base(loc)
	}
	return path.Base(strings.TrimRight(loc, "/"))
}
