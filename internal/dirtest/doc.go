// Package dirtest reads directories for tests that check what an operation
// left in one: [Files] takes a directory's files with their content, to
// compare before and after (trainer's lock and run-ID tests, internal/chaos's
// lock test).
//
// # Concurrency
//
// Files only reads; it is safe for concurrent use, and sees whatever the
// directory holds while it reads.
package dirtest
