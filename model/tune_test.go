package model

import (
	"fmt"
	"testing"
)

// BenchmarkConvTuning compares the chunk sizes of the two convolutions on
// one core (run with -cpu 1), to choose conv1Chunk and conv2Chunk.
func BenchmarkConvTuning(b *testing.B) {
	for _, chunk1 := range []int{4, 8, 16} {
		for _, chunk2 := range []int{2, 4, 8, 16} {
			b.Run(fmt.Sprintf("chunk1=%d/chunk2=%d", chunk1, chunk2), func(b *testing.B) {
				m := NewLeNet5With(seeded(1), Options{Workers: 1})
				m.layers[0].(*conv).chunk = chunk1
				m.layers[1].(*conv).chunk = chunk2
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
