package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/tbtrain/tbtrain/storage"
)

// Run runs the suite against st, using only keys under prefix (which must
// be empty of objects; "" is not allowed, so the suite never touches keys it
// did not make). backend is the *storage.Error Backend st reports.
func Run(t *testing.T, st storage.Store, prefix, backend string) {
	t.Helper()
	if prefix == "" {
		t.Fatal("storagetest: empty prefix")
	}
	ctx := context.Background()
	key := func(t *testing.T, rest string) string {
		// One directory per subtest keeps them independent.
		return path.Join(prefix, strings.ReplaceAll(t.Name(), "/", "_"), rest)
	}

	t.Run("PutGet", func(t *testing.T) {
		k := key(t, "obj")
		want := []byte("hello, store")
		mustPut(t, st, k, want)
		got, err := st.Get(ctx, k, 0, -1)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Get = %q, want %q", got, want)
		}
		info, err := st.Stat(ctx, k)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if info.Key != k || info.Size != int64(len(want)) || info.Dir {
			t.Fatalf("Stat = %+v, want key %q size %d, not a dir", info, k, len(want))
		}
		if info.ModTime.IsZero() {
			t.Errorf("Stat: zero ModTime")
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		k := key(t, "obj")
		mustPut(t, st, k, bytes.Repeat([]byte("a"), 100))
		mustPut(t, st, k, []byte("short"))
		if got := mustGet(t, st, k); string(got) != "short" {
			t.Fatalf("after overwrite Get = %q, want %q", got, "short")
		}
	})

	t.Run("Empty", func(t *testing.T) {
		k := key(t, "empty")
		mustPut(t, st, k, nil)
		if got := mustGet(t, st, k); len(got) != 0 {
			t.Fatalf("Get = %q, want empty", got)
		}
	})

	t.Run("Large", func(t *testing.T) {
		// 9 MiB: above the 5 MiB part size of S3 multipart uploads and
		// minio-go's default 16 MiB threshold is not reached; the point
		// is a body far larger than any buffer on the way.
		k := key(t, "big")
		want := make([]byte, 9<<20)
		r := rand.New(rand.NewPCG(1, 1))
		for i := range want {
			want[i] = byte(r.Uint32())
		}
		mustPut(t, st, k, want)
		if got := mustGet(t, st, k); !bytes.Equal(got, want) {
			t.Fatalf("Get of %d bytes differs from what was put", len(want))
		}
	})

	t.Run("GetRange", func(t *testing.T) {
		k := key(t, "obj")
		mustPut(t, st, k, []byte("0123456789"))
		for _, tc := range []struct {
			off, n int64
			want   string
		}{
			{0, 3, "012"},
			{4, -1, "456789"},
			{7, 100, "789"},
			{9, 1, "9"},
			{10, 5, ""},
			{50, -1, ""},
			{0, 0, ""},
		} {
			got, err := st.Get(ctx, k, tc.off, tc.n)
			if err != nil {
				t.Errorf("Get(%d, %d): %v", tc.off, tc.n, err)
				continue
			}
			if string(got) != tc.want {
				t.Errorf("Get(%d, %d) = %q, want %q", tc.off, tc.n, got, tc.want)
			}
		}
	})

	t.Run("NotExist", func(t *testing.T) {
		k := key(t, "missing")
		_, err := st.Get(ctx, k, 0, -1)
		checkErr(t, "Get", err, fs.ErrNotExist, backend, k)
		_, err = st.Stat(ctx, k)
		checkErr(t, "Stat", err, fs.ErrNotExist, backend, k)
		if err := st.Delete(ctx, k); err != nil {
			t.Errorf("Delete of a missing key: %v, want nil", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		k := key(t, "obj")
		mustPut(t, st, k, []byte("x"))
		if err := st.Delete(ctx, k); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err := st.Get(ctx, k, 0, -1)
		checkErr(t, "Get after Delete", err, fs.ErrNotExist, backend, k)
	})

	t.Run("PutNew", func(t *testing.T) {
		k := key(t, "lease")
		if err := st.PutNew(ctx, k, []byte("first")); err != nil {
			t.Fatalf("PutNew of a new key: %v", err)
		}
		err := st.PutNew(ctx, k, []byte("second"))
		checkErr(t, "PutNew of an existing key", err, fs.ErrExist, backend, k)
		if got := mustGet(t, st, k); string(got) != "first" {
			t.Fatalf("after a refused PutNew Get = %q, want %q", got, "first")
		}
	})

	t.Run("PutNewRace", func(t *testing.T) {
		k := key(t, "lease")
		oneWins(t, st, k, "PutNew of "+k, 8, fs.ErrExist, func(i int) []byte { return fmt.Appendf(nil, "writer %d", i) },
			func(data []byte) error { return st.PutNew(ctx, k, data) })
	})

	t.Run("PutIfVersion", func(t *testing.T) {
		k := key(t, "obj")
		sw := swapper(t, st, k, []byte("v1"))
		v1 := version(t, sw, k, "v1")
		if err := sw.PutIfVersion(ctx, k, []byte("v2"), v1); err != nil {
			t.Fatalf("PutIfVersion at the current version: %v", err)
		}
		v2 := version(t, sw, k, "v2")
		if v2 == v1 {
			t.Fatalf("after the swap %s is still at version %q", k, v1)
		}
		err := sw.PutIfVersion(ctx, k, []byte("stale"), v1)
		checkErr(t, "PutIfVersion at a replaced version", err, storage.ErrChanged, backend, k)
		if got := mustGet(t, st, k); string(got) != "v2" {
			t.Fatalf("a refused PutIfVersion stored %q", got)
		}
		missing := key(t, "missing")
		err = sw.PutIfVersion(ctx, missing, []byte("x"), v2)
		checkErr(t, "PutIfVersion of a missing key", err, fs.ErrNotExist, backend, missing)
		if _, err := st.Stat(ctx, missing); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a refused PutIfVersion created %s (Stat: %v)", missing, err)
		}
	})

	t.Run("PutIfVersionRace", func(t *testing.T) {
		// Compare-and-swap is only worth something if the server checks
		// and writes as one step: 4 writers replace the same version, 5
		// times over; each time exactly one may win. (SeaweedFS makes the
		// losers of a round wait for its object lock in 1 s steps, so more
		// writers cost seconds without racing any harder.)
		k := key(t, "lease")
		sw := swapper(t, st, k, []byte("round 0"))
		const n, rounds = 4, 5
		prev := "round 0"
		for r := 1; r <= rounds; r++ {
			v := version(t, sw, k, prev)
			won := oneWins(t, st, k, fmt.Sprintf("round %d: PutIfVersion of %s at version %s", r, k, v), n, storage.ErrChanged,
				func(i int) []byte { return fmt.Appendf(nil, "round %d writer %d", r, i) },
				func(data []byte) error { return sw.PutIfVersion(ctx, k, data, v) })
			prev = fmt.Sprintf("round %d writer %d", r, won)
		}
	})

	t.Run("List", func(t *testing.T) {
		dir := key(t, "d")
		mustPut(t, st, dir+"/b", []byte("bb"))
		mustPut(t, st, dir+"/a", []byte("a"))
		mustPut(t, st, dir+"/sub/c", []byte("ccc"))
		mustPut(t, st, dir+"x/not-under-d", []byte("x")) // shares the string prefix only
		got, err := st.List(ctx, dir)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		want := []storage.Info{{Key: dir + "/a", Size: 1}, {Key: dir + "/b", Size: 2}, {Key: dir + "/sub", Dir: true}}
		if len(got) != len(want) {
			t.Fatalf("List(%q) = %+v, want %+v", dir, got, want)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Key != w.Key || g.Size != w.Size || g.Dir != w.Dir {
				t.Errorf("List(%q)[%d] = %+v, want key %q size %d dir %v", dir, i, g, w.Key, w.Size, w.Dir)
			}
			if g.Name() != path.Base(w.Key) {
				t.Errorf("Name() = %q, want %q", g.Name(), path.Base(w.Key))
			}
		}
		info, err := st.Stat(ctx, dir+"/sub")
		if err != nil || !info.Dir {
			t.Errorf("Stat of a key with objects below it = %+v, %v; want Dir", info, err)
		}
	})

	t.Run("ListMissing", func(t *testing.T) {
		got, err := st.List(ctx, key(t, "nothing-here"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("List of a missing dir: %v, want empty or fs.ErrNotExist", err)
		}
		if len(got) != 0 {
			t.Fatalf("List of a missing dir = %+v", got)
		}
	})

	t.Run("InvalidKey", func(t *testing.T) {
		for _, k := range []string{"", "dir/"} {
			err := st.Put(ctx, k, []byte("x"))
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Put(%q): %v, want storage.ErrInvalidKey", k, err)
			}
		}
	})

	t.Run("Cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		k := key(t, "obj")
		if err := st.Put(cctx, k, []byte("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a cancelled context: %v, want context.Canceled", err)
		}
		if _, err := st.Stat(ctx, k); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a cancelled Put stored %s (Stat: %v)", k, err)
		}
	})

	t.Run("Location", func(t *testing.T) {
		k := key(t, "obj")
		loc := st.Location(k)
		if !strings.HasSuffix(strings.ReplaceAll(loc, `\`, "/"), k) {
			t.Fatalf("Location(%q) = %q, want it to end in the key", k, loc)
		}
	})

	t.Run("Append", func(t *testing.T) {
		ap, ok := st.(storage.Appender)
		if !ok {
			t.Skipf("%T does not implement storage.Appender (objects cannot grow)", st)
		}
		k := key(t, "events")
		f, err := ap.Append(ctx, k)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		for _, s := range []string{"one ", "two ", "three"} {
			if _, err := f.Write([]byte(s)); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if err := f.Sync(); err != nil {
				t.Fatalf("Sync: %v", err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if got := mustGet(t, st, k); string(got) != "one two three" {
			t.Fatalf("Get = %q", got)
		}
		_, err = ap.Append(ctx, k)
		checkErr(t, "Append to an existing key", err, fs.ErrExist, backend, k)
	})
}

func mustPut(t *testing.T, st storage.Store, key string, data []byte) {
	t.Helper()
	if err := st.Put(context.Background(), key, data); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, st storage.Store, key string) []byte {
	t.Helper()
	b, err := st.Get(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return b
}

// swapper returns st as a storage.Swapper after putting data at key,
// skipping t when st cannot compare and swap.
func swapper(t *testing.T, st storage.Store, key string, data []byte) storage.Swapper {
	t.Helper()
	sw, ok := st.(storage.Swapper)
	if !ok {
		t.Skipf("%T does not implement storage.Swapper", st)
	}
	mustPut(t, st, key, data)
	return sw
}

// version returns the version of key read with GetVersion, failing t
// unless the read succeeds, returns want and names a version.
func version(t *testing.T, sw storage.Swapper, key, want string) string {
	t.Helper()
	got, v, err := sw.GetVersion(context.Background(), key)
	if err != nil || string(got) != want || v == "" {
		t.Fatalf("GetVersion(%q) = %q, %q, %v; want %q at a version", key, got, v, err, want)
	}
	return v
}

// oneWins has n writers put data(i) at key at once and checks that exactly
// one of them succeeded, that every other failed with an error wrapping
// lost, and that key holds the winner's data; it returns the winner. what
// names the race in failures.
func oneWins(t *testing.T, st storage.Store, key, what string, n int, lost error, data func(i int) []byte, put func(data []byte) error) int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = put(data(i)) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("%s: writers %d and %d both succeeded", what, won, i)
		case err == nil:
			won = i
		case !errors.Is(err, lost):
			t.Fatalf("%s: writer %d: %v, want success or an error wrapping %v", what, i, err, lost)
		}
	}
	if won < 0 {
		t.Fatalf("%s: no writer succeeded", what)
	}
	if got, want := mustGet(t, st, key), data(won); !bytes.Equal(got, want) {
		t.Fatalf("%s: Get = %q, want the winner's %q", what, got, want)
	}
	return won
}

// checkErr checks that err wraps target and is a *storage.Error naming the
// backend and key.
func checkErr(t *testing.T, what string, err, target error, backend, key string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: %v, want an error wrapping %v", what, err, target)
		return
	}
	var se *storage.Error
	if !errors.As(err, &se) {
		t.Errorf("%s: %T %v is not a *storage.Error", what, err, err)
		return
	}
	if se.Backend != backend || se.Key != key {
		t.Errorf("%s: error names backend %q key %q, want %q %q", what, se.Backend, se.Key, backend, key)
	}
	if !strings.Contains(err.Error(), key) {
		t.Errorf("%s: message %q does not name the key", what, err)
	}
}
