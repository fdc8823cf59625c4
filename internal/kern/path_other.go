//go:build !(amd64 || arm64) || purego

package kern

// archPaths returns the vector paths of this build: none.
func archPaths() ([]*path, map[string]string) {
	why := map[string]string{}
	if purego {
		for _, name := range []string{"avx512", "avx2", "neon"} {
			why[name] = "built with the purego tag"
		}
	}
	return nil, why
}
