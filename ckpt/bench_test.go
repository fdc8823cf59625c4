package ckpt

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
)

// TestHostileAllocation checks that files announcing a huge payload make
// Load allocate in proportion to the file, not to the claim.
func TestHostileAllocation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"1 GiB announced, header only", fixHeaderCRC(envelope(1, nil), maxPayload), ErrTruncated},
		{"1 TiB announced", fixHeaderCRC(envelope(1, nil), 1<<40), ErrCorrupt},
		{"1 GiB announced, 10 KB present", fixHeaderCRC(envelope(1, make([]byte, 10_000)), maxPayload), ErrTruncated},
	} {
		path := filepath.Join(dir, "h.ckpt")
		writeFile(t, path, tc.b)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Load(path)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10+uint64(len(tc.b)) {
			t.Errorf("%s: a %d-byte file made Load allocate %d bytes", tc.name, len(tc.b), got)
		}
	}
}

// LeNet-5-sized checkpoint (61,706 parameters plus as many momentum values).
func BenchmarkEncodeLeNet(b *testing.B) {
	c := sample(1, true)
	n := len(mustEncode(b, c))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeLeNet(b *testing.B) {
	buf := mustEncode(b, sample(1, true))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveLeNet measures a full durable commit (including fsync of the
// file and the directory) on the file system holding the test's TempDir.
func BenchmarkSaveLeNet(b *testing.B) {
	c := sample(1, true)
	path := filepath.Join(b.TempDir(), "b.ckpt")
	b.SetBytes(int64(len(mustEncode(b, c))))
	b.ReportAllocs()
	for b.Loop() {
		if err := Save(path, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadLeNet(b *testing.B) {
	c := sample(1, true)
	path := filepath.Join(b.TempDir(), "b.ckpt")
	mustSave(b, path, c)
	b.SetBytes(int64(len(mustEncode(b, c))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
