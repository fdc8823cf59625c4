//go:build unix && !race

package chaos

// raceEnabled reports whether the test binary is built with -race.
const raceEnabled = false
