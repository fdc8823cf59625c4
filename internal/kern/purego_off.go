//go:build !purego && !amd64 && !arm64

package kern

// purego reports whether the build has the purego tag (no assembly). On
// amd64 and arm64 without the tag the assembly paths are built and
// nothing asks.
const purego = false
