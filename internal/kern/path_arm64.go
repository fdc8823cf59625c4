//go:build !purego

package kern

// neonPath is the NEON assembly path: every arm64 processor has Advanced
// SIMD, so it is always available and the default.
var neonPath = &path{name: "neon", sgemm: sgemmNEON, rows: sgemmRowsNEON, rowsT: sgemmRowsTNEON}

// archPaths returns the vector paths of this build: NEON.
func archPaths() ([]*path, map[string]string) {
	return []*path{neonPath}, map[string]string{}
}
