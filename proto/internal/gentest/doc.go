// Package gentest holds the staleness check shared by the generated-code
// packages under proto/: it regenerates a package's *.pb.go files with
// proto/gen.sh into a temporary directory and fails the calling test on any
// difference from the committed files.
//
// protoc must be on PATH. Without it the check skips, except when the
// environment has CI=true, where a missing protoc is a failure.
package gentest
