// Package version says which build of tbtrain is running: the module
// version and the version-control revision the go command stamped into the
// binary (runtime/debug.ReadBuildInfo). The commands print it for
// --version, and the trainer records it in every checkpoint and in the
// run's config text, so that a checkpoint or a TensorBoard run names the
// code that wrote it.
//
// # What the go command stamps
//
// `go build` and `go install` in a git clone stamp vcs.revision, vcs.time
// and vcs.modified (uncommitted changes), and since Go 1.24 a module version
// derived from them (a pseudo-version such as
// v0.0.0-20261202183000-9e89d9e2abcd, with "+dirty" when modified). `go run`,
// `go test`, a build outside a git clone (or in a git worktree, which the go
// command does not recognise), or -buildvcs=false stamp none of it: the
// version is then "(devel)" and the revision unknown, and [Info.String] says
// so. When tbtrain is a dependency of another program, the version is the one
// that program's go.mod requires, and the revision (which would be the
// program's, not tbtrain's) is not reported.
//
// # Concurrency
//
// [Current] reads the build information once; all functions are safe for
// concurrent use.
package version
