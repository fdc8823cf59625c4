//go:build !amd64 || purego

package kern

// The portable build has no vector versions: they process no elements and
// leave everything to the generic loops.

func addBiasAsm(x []float32, bias float32, relu bool) int { return 0 }
func addBiasVecAsm(x, bias []float32, relu bool) int      { return 0 }
func reluMaskAsm(d, y []float32) int                      { return 0 }

func copyRowsAsm(dst, src []float32, blocks, dblock, sblock, rows, dstride, sstride, width int) bool {
	return false
}

func addRowsAsm(dst, src []float32, blocks, dblock, sblock, rows, dstride, sstride, width int) bool {
	return false
}

func maxPool2Asm(dst []float32, arg []int32, src []float32, n, ph, pw, ld, sstride, dstride int, bias float32, relu bool, base int32) bool {
	return false
}

func sgdMomentumAsm(p, buf, g []float32, momentum, negLR float32) int { return 0 }

func sum2Asm(dst, a, b []float32, acc bool) int { return 0 }

func convAsm(col2im bool, col, in []float32, s ConvShape, b int) bool { return false }

func maxUnpool2Asm(dst, d, y []float32, arg []int32, n, ph, pw, ld, sstride, dstride int, relu bool, base int32) (float64, bool) {
	return 0, false
}

func lookupAsm(dst []float32, src []uint8, table *[256]float32) int { return 0 }

func prefetch(b []uint8) {}

func processor() int { return -1 }
