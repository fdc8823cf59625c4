// Package selfexec tells a test whether its test binary can start a copy of
// itself, which the end-to-end tests of the commands and the crash tests do
// (they re-execute the test binary as the command or as a helper process).
//
// A test binary cannot start itself when it runs under a user-mode emulator
// such as qemu-user without binfmt_misc: CI runs the linux/arm64 test
// binaries that way, and the kernel refuses the child with "exec format
// error". [Require] then skips the test, saying so; everywhere else it does
// nothing. Every test that starts its own test binary calls it first (the
// linux/arm64 run in CI fails on one that does not). The probe runs once per
// process and is safe for concurrent use.
package selfexec
