//go:build purego

package kern

// purego reports whether the build has the purego tag (no assembly).
const purego = true
