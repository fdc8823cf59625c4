// Package kernflag gives a test binary a -kern flag that chooses the code
// path of the numeric kernels (kern.SetPath) its tests and benchmarks run
// on: bench/compare.sh passes -kern=avx2 and the like to measure each path.
// The test binaries of bench and model call [Main] from their TestMain.
//
// # Concurrency
//
// [Main] runs once, before any test, from TestMain.
package kernflag
