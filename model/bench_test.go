package model

import (
	"fmt"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/cputime"
)

// Sinks keep the compiler from dropping benchmarked work.
var (
	sinkLoss float32
	sinkEval float64
)

// cpuTime is the CPU time (user+system) used by the process so far. The
// machine is shared, so besides wall-clock img/s the benchmarks report CPU
// µs per image, which other processes disturb much less.
func cpuTime() time.Duration {
	d, _ := cputime.Process() // 0 where unsupported: cpu-µs/img is then meaningless
	return d
}

func report(b *testing.B, images int, cpu0 time.Duration) {
	total := float64(images) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/total, "cpu-µs/img")
}

func BenchmarkTrainBatch(b *testing.B) {
	for _, n := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			m := NewLeNet5(seeded(1))
			x, y := randomBatch(seeded(2), n)
			m.TrainBatch(x, y) // allocate the buffers
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				sinkLoss = m.TrainBatch(x, y)
			}
			report(b, n, cpu0)
		})
	}
}

func BenchmarkEval(b *testing.B) {
	const n = 1000
	m := NewLeNet5(seeded(1))
	x, y := randomBatch(seeded(2), n)
	pred := make([]uint8, n)
	m.Eval(x, y, pred)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		sinkEval = m.Eval(x, y, pred)
	}
	report(b, n, cpu0)
}
