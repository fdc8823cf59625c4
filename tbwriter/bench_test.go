package tbwriter

import (
	"os"
	"path/filepath"
	"testing"
)

// scalarRecordSize is the framed size of the benchmark's scalar record,
// measured so SetBytes reports the bytes written per scalar.
func scalarRecordSize(tag string) int64 {
	return int64(len(appendScalarRecord(nil, 1795952040.5, 123456, tag, 0.25, nil)))
}

// BenchmarkAddScalar measures scalar logging end to end: AddScalar on the
// caller's goroutine, then queue, encode, CRC and buffered write to a real
// event file in the background. b.Loop stops the timer when it returns
// false, so the timer is restarted for the final Flush: every queued scalar
// has been written when the clock stops.
func BenchmarkAddScalar(b *testing.B) {
	const tag = "train/loss"
	w, err := Create(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(scalarRecordSize(tag))
	b.ReportAllocs()
	var step int64
	for b.Loop() {
		step++
		if err := w.AddScalar(tag, step, 0.25); err != nil {
			b.Fatal(err)
		}
	}
	b.StartTimer()
	if err := w.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "scalars/s")
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAddScalarParallel is BenchmarkAddScalar with GOMAXPROCS
// goroutines logging at once.
func BenchmarkAddScalarParallel(b *testing.B) {
	const tag = "train/loss"
	w, err := Create(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(scalarRecordSize(tag))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var step int64
		for pb.Next() {
			step++
			if err := w.AddScalar(tag, step, 0.25); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := w.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "scalars/s")
	w.Close()
}

// BenchmarkScalarRecord measures the synchronous part alone: encoding and
// framing (two CRCs) one scalar record into a reused buffer.
func BenchmarkScalarRecord(b *testing.B) {
	const tag = "train/loss"
	b.SetBytes(scalarRecordSize(tag))
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	var hc headerCache
	var step int64
	for b.Loop() {
		step++
		buf = appendScalarRecord(buf[:0], 1795952040.5, step, tag, 0.25, &hc)
	}
}

// BenchmarkReadFile measures decoding a 2,500-record PyTorch event file.
func BenchmarkReadFile(b *testing.B) {
	path := filepath.Join(fixtures, "torch-1.13", "many", "events.out.tfevents.1795952043.vm.13683.7")
	fi, err := os.Stat(path)
	if err != nil {
		b.Skip("fixture missing:", err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}
