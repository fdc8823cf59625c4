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
//   - every file: its number of events, step range (without the
//     file_version header, always at step 0), file_version, and the byte
//     offset and reason where it is damaged;
//   - every SessionLog event (START marks a resumed session; TensorBoard's
//     Python loader purges on it);
//   - tags whose values name more than one plugin ("MIXED KINDS": an image
//     under a scalar tag, say). TensorBoard files a tag under its first
//     kind and cannot show the others; its Python loader's route fails for
//     the whole tag;
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
// --purge applies the rules of one of TensorBoard's loaders to the tag
// table (see package tbwriter): "none" shows the files as they are,
// "python" what TensorBoard's Python EventAccumulator keeps, "rust" what its
// Rust data server keeps. Beyond purging, the loaders differ in what they
// read: the Python loader never reads *.profile-empty files (it lists a
// directory holding only one as a run with no data; such files are marked
// "not read"), stops a run at a record that is not an Event, and keeps the
// first value of each hparams tag only (so does the Rust server); the Rust
// server reads *.profile-empty files like any other, drops only the rest of
// a file at an undecodable record, ignores events with a NaN or infinite
// wall time, and lists a run only once it has read an event from it (a run
// it does not list is marked so).
//
// Under --purge=python or rust, the SHOWN column is how many of the COUNT
// points TensorBoard displays by default: both loaders keep a random sample
// of each tag (always with its last point) and the dashboards request at
// most a number of points per tag. By default that is 1000 scalars, 51
// histograms, 10 images, 10 audio clips, and 10 texts (Python loader) or
// 100 (Rust), 100 PR curves, and 1 hparams value (the first); the sources
// are cited in sampling.go. `tensorboard --samples_per_plugin` changes them.
// Under --purge=none, COUNT is before purging and sampling, and there is no
// SHOWN column.
//
// --events lists every event of every file, with its byte offset, instead of
// the tag table; with --purge=python or rust it marks the values that
// loader drops (purged, or a later value of an hparams tag). --json prints
// the same information as one JSON document whose field names are stable.
//
// With no arguments an event file is read from standard input, decoded as it
// is read: at the first damage tbdump stops reading, so garbage on stdin
// fails at once with bounded memory. --version prints the module version
// and git revision this binary was built from.
//
// Output is deterministic: runs, files and events in load order, tags
// sorted, floats printed with the shortest exact representation.
//
// Exit status: 0 when every file was read cleanly; 1 when a file is damaged
// (each damaged file is also reported on stderr as "tbdump: FILE: offset N:
// REASON (KIND)", KIND one of torn, length_crc, data_crc, not_event,
// too_large, io) or an argument cannot be read; 2 for bad usage. Mixed kinds
// are not damage.
package main
