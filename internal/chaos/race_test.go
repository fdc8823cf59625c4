//go:build unix && race

package chaos

// raceEnabled reports whether the test binary is built with -race; cmd/train
// is then built with -race too, so the child's goroutines (model workers,
// event writer, signal handling) are checked under real kills and signals.
const raceEnabled = true
