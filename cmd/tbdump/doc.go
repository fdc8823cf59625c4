// Command tbdump shows what a TensorBoard log directory or event file holds,
// like `tensorboard --inspect` but with more detail and with damage reports.
//
// Usage:
//
//	tbdump [--events] [--json] [--purge=none|python|rust] [--tags=REGEXP] [LOGDIR | EVENTFILE]...
//
// For each run (a directory holding events.out.tfevents.* files, read in name
// order as TensorBoard does) tbdump prints:
//
//   - every file: its number of events, step range, file_version, and the
//     byte offset and reason where it is damaged;
//   - every SessionLog event (START marks a resumed session; TensorBoard's
//     Python loader purges on it);
//   - one line per tag: plugin, value kind, count, step range, duplicate
//     steps (points drawn over an earlier point at the same step), and the
//     first and last values, each on one line: a PR curve as its threshold
//     count and the precision and recall at the middle threshold, audio as
//     rate, channels and seconds, a GIF video as its frame count, a mesh
//     tensor as its vertex, face or color count, a custom scalars layout as
//     its categories and charts;
//   - every graph_def with its node count;
//   - the embeddings listed in the run directory's projector_config.pbtxt
//     (name, points x dimensions, files).
//
// --purge applies the purge rules of one of TensorBoard's loaders to the tag
// table (see package tbwriter): "none" shows the files as they are,
// "python" what TensorBoard's Python EventAccumulator keeps, "rust" what its
// Rust data server keeps. --events lists every event of every file, with its
// byte offset, instead of the tag table; with --purge=python or rust it marks
// the values that loader drops. --json prints the same
// information as one JSON document whose field names are stable.
//
// With no arguments an event file is read from standard input. --version
// prints the module version and git revision this binary was built from.
//
// Output is deterministic: runs, files and events in load order, tags
// sorted, floats printed with the shortest exact representation.
//
// Exit status: 0 when every file was read cleanly; 1 when a file is damaged
// (each damaged file is also reported on stderr as "tbdump: FILE: offset N:
// REASON (KIND)") or an argument cannot be read; 2 for bad usage.
package main
