// Package tbreads reads the view of testdata/tensorboard-reads (see its
// README.md): tensorboard-view.json, what TensorBoard 2.22's Python loader
// served through its HTTP routes for the event files there, written by
// view.py. The tests of tbwriter and cmd/tbdump compare their reading of the
// same files with it.
//
// # Concurrency
//
// [Read] only reads the file; it is safe for concurrent use.
package tbreads
