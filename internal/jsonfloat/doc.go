// Package jsonfloat gives the commands' --json documents a float64 that
// survives NaN and the infinities: [Float] encodes them as the JSON strings
// "NaN", "Infinity" and "-Infinity", which plain JSON numbers cannot
// express (the convention of protobuf's JSON mapping), and every finite
// value as encoding/json encodes a float64. A checkpoint or event file of a
// diverged run can then still be reported. ckptinfo and tbdump use it.
//
// # Concurrency
//
// A Float is a value; its methods are safe for concurrent use.
package jsonfloat
