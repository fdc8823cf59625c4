package kern

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
)

// Arithmetic names the canonical arithmetic every code path computes (see
// the package doc). It changes whenever any result of this package, or of
// the sums the package doc lists for its callers, would change in any bit;
// a value computed under one Arithmetic is reproduced bit for bit under the
// same Arithmetic by every path on every processor.
const Arithmetic = "canonical/1"

// path is one implementation of the canonical arithmetic.
type path struct {
	name  string
	sgemm gemmFunc
	rows  rowsFunc // SgemmRows
	rowsT rowsFunc // SgemmRowsT
	sumT  sumTFunc // SumTProducts; nil: the composition (sumTComposed)
}

// rowsFunc is the signature of the implementations behind [SgemmRows] and
// [SgemmRowsT]; arguments have been checked and m, n, k are positive.
type rowsFunc func(m, n, k int, a []float32, lda int, b []float32, boff []int, accumulate bool, c []float32, ldc int)

// genericPath is the portable Go implementation, available everywhere.
var genericPath = &path{name: "generic", sgemm: sgemmGeneric, rows: sgemmRowsGeneric, rowsT: sgemmRowsTGeneric}

// allPaths lists every path this package knows, fastest first.
var allPaths = []string{"avx512", "avx2", "neon", "generic"}

// available lists the paths that can run here, fastest first (the first is
// the default); unavailable gives the reason for each of the others.
var available, unavailable = setupPaths()

// active is the path in use.
var active atomic.Pointer[path]

func init() { active.Store(available[0]) }

// setupPaths asks the architecture file (archPaths) for its vector paths.
func setupPaths() ([]*path, map[string]string) {
	vec, why := archPaths()
	avail := append(vec, genericPath)
	for _, name := range allPaths {
		if findIn(avail, name) == nil && why[name] == "" {
			why[name] = "not built for " + runtime.GOARCH
		}
	}
	return avail, why
}

func findIn(ps []*path, name string) *path {
	for _, p := range ps {
		if p.name == name {
			return p
		}
	}
	return nil
}

func findPath(name string) *path { return findIn(available, name) }

// cur returns the active path.
func cur() *path { return active.Load() }

// Impl names the code path in use: "avx512" on amd64 processors with
// AVX-512 F, DQ and VL (and AVX2 and FMA), "avx2" on those with AVX2 and
// FMA, "neon" on arm64, "generic" elsewhere or when built with the purego
// build tag, unless [SetPath] chose another. Every path computes the same
// bits.
func Impl() string { return cur().name }

// Paths lists the code paths that can run on this processor, the default
// (fastest) first.
func Paths() []string {
	names := make([]string, len(available))
	for i, p := range available {
		names[i] = p.name
	}
	return names
}

// Unavailable reports why the named path cannot run here ("" if it can or
// if the name is unknown).
func Unavailable(name string) string { return unavailable[name] }

// SetPath makes the named code path ("avx512", "avx2", "neon" or "generic") the
// one every later call uses; "" or "auto" selects the default, the first
// of [Paths]. The choice never changes a result, only the speed, so it is
// meant for tests and speed comparisons (cmd/train sets it from
// TBTRAIN_KERN). It is safe to call at any time: calls already running
// finish on the path they started with.
//
// It returns an error wrapping [ErrUnknownPath] for a name it does not
// know, or [ErrPathUnavailable] (with the reason) for a path this
// processor or build cannot run; the active path is then unchanged.
func SetPath(name string) error {
	if name == "" || name == "auto" {
		active.Store(available[0])
		return nil
	}
	if p := findPath(name); p != nil {
		active.Store(p)
		return nil
	}
	if why, ok := unavailable[name]; ok {
		return fmt.Errorf("kern: code path %q: %w: %s", name, ErrPathUnavailable, why)
	}
	return fmt.Errorf("kern: code path %q: %w (known: %s, auto)", name, ErrUnknownPath, strings.Join(allPaths, ", "))
}
