package kern

import (
	"math/rand/v2"
	"testing"
)

// FuzzSgemm checks, on sizes, transpose flags, accumulation and
// leading-dimension padding chosen by the fuzzer (values from a PCG seeded
// by it), that the generic path is within rounding of the float64
// reference and that every other code path gives its bits exactly.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(6), uint16(784), uint16(25), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(16), uint16(150), uint16(1600), uint8(2), uint8(1), uint64(2))
	f.Add(uint8(150), uint16(300), uint16(16), uint8(1), uint8(3), uint64(3))
	f.Add(uint8(17), uint16(120), uint16(400), uint8(6), uint8(0), uint64(4))
	f.Add(uint8(0), uint16(5), uint16(0), uint8(7), uint8(2), uint64(5))
	f.Fuzz(func(t *testing.T, m uint8, n, k uint16, flags, pad uint8, seed uint64) {
		// Bound the work per input: at most 255×511×1200 multiply-adds.
		g := gemmCase{
			transA: flags&1 != 0, transB: flags&2 != 0, acc: flags&4 != 0,
			m: int(m), n: int(n % 512), k: int(k % 1200), pad: int(pad % 8),
		}
		checkGemm(t, func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
			checkedSgemm(sgemmGeneric, transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
		}, g, rand.New(rand.NewPCG(seed, 0)))
		for _, ic := range testImpls {
			if ic.name != "generic" {
				checkSame(t, ic.fn, sgemmGeneric, g, rand.New(rand.NewPCG(seed, 1)))
			}
		}
	})
}
