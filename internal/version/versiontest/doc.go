// Package versiontest checks what a command prints for --version, for the
// tests of the commands in cmd/ (each calls its own run and hands the
// outcome to [Check]).
//
// # Concurrency
//
// [Check] reports through its t only; it is safe to call from parallel tests.
package versiontest
