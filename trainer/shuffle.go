package trainer

import (
	"math/bits"
	"math/rand/v2"
)

// epochRNG returns the PCG that shuffles epoch e of a run with the given seed.
// It is a pure function of (seed, e), so a run resumed in the middle of an
// epoch recomputes the same order without replaying earlier epochs.
//
// The two 64-bit PCG seed words are the seed and the epoch passed through
// SplitMix64's finalizer, so neighbouring seeds and epochs give unrelated
// streams rather than two LCG states that differ by one.
func epochRNG(seed uint64, e int64) *rand.PCG {
	return rand.NewPCG(mix64(seed^0x6a09e667f3bcc908), mix64(seed+uint64(e+1)*0x9e3779b97f4a7c15))
}

// initRNG returns the generator handed to the model for its initial weights.
func initRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix64(seed^0xbb67ae8584caa73b), mix64(^seed)))
}

// mix64 is the finalizer of SplitMix64 (Steele, Lea and Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014; constants from the reference
// implementation at https://prng.di.unimi.it/splitmix64.c). The odd constants
// xored or added to the seed above are the first 64 fractional bits of √2, √3
// (SHA-512 initial hash values, FIPS 180-4 §5.3.5) and of the golden ratio.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// permute fills perm with a uniformly random permutation of 0..len(perm)-1
// drawn from src with the Fisher–Yates shuffle (Knuth, TAOCP vol. 2, §3.4.2,
// Algorithm P), using Lemire's multiply-and-reject method for the bounded draws
// ("Fast random integer generation in an interval", ACM TOMACS 29(1), 2019).
// The algorithm is written out here rather than taken from math/rand/v2 so the
// order stays fixed whatever the Go version.
func permute(perm []int, src *rand.PCG) {
	for i := range perm {
		perm[i] = i
	}
	for i := len(perm) - 1; i > 0; i-- {
		j := int(boundedUint64(src, uint64(i)+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
}

// boundedUint64 returns a uniform value in [0, n), n > 0.
func boundedUint64(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
