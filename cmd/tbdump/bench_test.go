package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// benchLogdir writes runs runs of n scalars each (one tag, one file per run)
// under a temporary directory.
func benchLogdir(b *testing.B, runs, n int) string {
	b.Helper()
	dir := b.TempDir()
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	for r := range runs {
		runDir := filepath.Join(dir, fmt.Sprintf("run%03d", r))
		if err := os.MkdirAll(runDir, 0o755); err != nil {
			b.Fatal(err)
		}
		w, err := tbwriter.Create(runDir, tbwriter.Options{Host: "bench", Now: now})
		if err != nil {
			b.Fatal(err)
		}
		for s := range n {
			if err := w.AddScalar("train/loss", int64(s), float32(s)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkLogdir runs tbdump over 100 runs of 10,000 scalars each (about
// 42 MB of event files), printing to io.Discard: the cost of reading,
// decoding and summarizing a log directory.
func BenchmarkLogdir(b *testing.B) {
	dir := benchLogdir(b, 100, 10_000)
	for _, args := range [][]string{{dir}, {"--purge=python", dir}} {
		b.Run(fmt.Sprint(args[:len(args)-1]), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := run(context.Background(), args, nil, io.Discard, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLogdirDecodesOnce: tbdump decodes each event once. Decoding a scalar
// event costs about 8 allocations (the Event, its Summary, the value and
// their oneof wrappers, the tag); reading every file a second time, as
// tbdump once did, doubled that. The bound leaves room for the tag table.
func TestLogdirDecodesOnce(t *testing.T) {
	dir := t.TempDir()
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	const runs, n = 2, 2000
	for r := range runs {
		w, err := tbwriter.Create(filepath.Join(dir, fmt.Sprint(r)), tbwriter.Options{Host: "t", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		for s := range n {
			if err := w.AddScalar("loss", int64(s), 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{dir}, {"--purge=python", dir}, {"--purge=rust", dir}} {
		allocs := testing.AllocsPerRun(2, func() {
			if err := run(context.Background(), args, nil, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
		})
		perEvent := allocs / (runs * n)
		t.Logf("tbdump %v: %.1f allocations per event", args[:len(args)-1], perEvent)
		if perEvent > 12 {
			t.Errorf("tbdump %v: %.1f allocations per event, want at most 12 (one decode each)", args[:len(args)-1], perEvent)
		}
	}
}
