package kern

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// pinToCPU locks the calling goroutine to its thread and that thread to
// processor cpu (sched_setaffinity(2)); it reports whether that worked.
// The goroutine must end without unlocking, so that the runtime ends the
// pinned thread instead of reusing it.
func pinToCPU(cpu int) bool {
	runtime.LockOSThread()
	var mask [16]uint64 // a cpu_set_t of 1024 processors
	mask[cpu/64] = 1 << (cpu % 64)
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0])))
	return e == 0
}

// BenchmarkSGDMomentumShared times SGDMomentum on a quarter of LeNet-5's
// parameters (15,424 floats) on processor 0 right after a thread on
// processor 1 has read them, as in a training step on two cores (the other
// core's forward and backward pass read every parameter; then each core
// updates its parts), and, as shared=false, with no other reader. It
// reports the median time of one update (ns/update): the mean would
// mostly measure the other engineers' load on a shared machine.
func BenchmarkSGDMomentumShared(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two processors")
	}
	const n = 15424
	rng := rand.New(rand.NewPCG(1, 1))
	p, buf, g := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	for _, shared := range []bool{true, false} {
		name := "shared=false"
		if shared {
			name = "shared=true"
		}
		b.Run(name, func(b *testing.B) {
			var turn atomic.Int32 // 1: the reader's turn, 0: the updater's, -1: stop
			var sink float32
			done := make(chan struct{})
			go func() {
				defer close(done)
				pinToCPU(1) // if it fails, the timing below says so
				for {
					t := turn.Load()
					if t == -1 {
						return
					}
					if t != 1 {
						continue
					}
					var s float32
					for j := 0; j < n; j += 16 { // one load per line
						s += p[j]
					}
					sink += s // kept: the loads must happen
					turn.Store(0)
				}
			}()
			defer func() {
				turn.Store(-1)
				<-done
			}()
			if !pinToCPU(0) {
				b.Skip("sched_setaffinity failed")
			}
			d := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				if shared {
					turn.Store(1)
					for turn.Load() == 1 {
					}
				}
				t0 := time.Now()
				SGDMomentum(p, buf, g, 0.9, -0.01)
				d = append(d, time.Since(t0))
			}
			b.StopTimer()
			if sink == 1e30 {
				b.Log(sink)
			}
			slices.Sort(d)
			b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "ns/update")
		})
	}
}
