package model

import (
	"fmt"
	"testing"
)

// BenchmarkConvTuning compares convolution chunk sizes and the wide grid on
// one core (run with -cpu 1), to choose convChunk and the wide flags.
func BenchmarkConvTuning(b *testing.B) {
	for _, wide1 := range []bool{false, true} {
		for _, wide2 := range []bool{false, true} {
			for _, chunk := range []int{0, 2, 4, 8} {
				b.Run(fmt.Sprintf("wide1=%v/wide2=%v/chunk=%d", wide1, wide2, chunk), func(b *testing.B) {
					m := NewLeNet5With(seeded(1), Options{Workers: 1})
					c1, c2 := m.layers[0].(*conv), m.layers[1].(*conv)
					c1.wide, c2.wide = wide1, wide2
					c1.chunk, c2.chunk = chunk, chunk
					x, y := randomBatch(seeded(2), 64)
					m.TrainBatch(x, y)
					cpu0 := cpuTime()
					for b.Loop() {
						sinkLoss = m.TrainBatch(x, y)
					}
					report(b, 64, cpu0)
				})
			}
		}
	}
}

// BenchmarkShards compares shard counts at batch 64 (CPU µs per image are
// the cost; img/s also shows load balance when run with -cpu 2).
func BenchmarkShards(b *testing.B) {
	for _, shards := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			m := NewLeNet5With(seeded(1), Options{Shards: shards})
			x, y := randomBatch(seeded(2), 64)
			m.TrainBatch(x, y)
			cpu0 := cpuTime()
			for b.Loop() {
				sinkLoss = m.TrainBatch(x, y)
			}
			report(b, 64, cpu0)
		})
	}
}
