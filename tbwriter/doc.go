// Package tbwriter writes and reads TensorBoard event files natively, without
// TensorFlow or Python.
//
// # On-disk format
//
// An event file is a sequence of records in TFRecord framing. Every record is
//
//	uint64  length             little-endian, bytes of data
//	uint32  masked CRC-32C     of the 8 length bytes
//	[]byte  data               length bytes: one serialized tensorboard.Event
//	uint32  masked CRC-32C     of data
//
// The CRC is CRC-32C (Castagnoli), masked as in LevelDB: rotated right by
// 15 bits, plus 0xa282ead8 (see [MaskedCRC]). [RecordWriter] and
// [RecordReader] implement this framing over any io.Writer / io.Reader and
// know nothing of events.
//
// A file written by [Create] is named
//
//	events.out.tfevents.<10-digit unix seconds>.<host>.<pid>.<counter>
//
// and is created with O_EXCL, so two writers never share a file; Create
// makes the directory and its parents if needed. The name is chosen to sort
// after every event file already in the directory (every name containing
// "tfevents", ours or not), because TensorBoard's Python loader reads a run's
// files in name order and never goes back to an earlier one. When the name
// above would not sort last (a later clock, or a foreign name such as
// "foo.tfevents.1"), the seconds are moved past the last file's, or the new
// name extends the last file's name (see Create). Its first record is an
// Event with file_version "brain.Event:2"; its second a SessionLog START at
// [Options.StartStep]. Summaries follow, one per Event.
//
// # What it writes
//
// The Writer has a method for each of PyTorch's SummaryWriter methods; the
// summary builders behind them are pure functions, one file per plugin with
// that plugin's metadata:
//
//	SummaryWriter          Writer                 builder / reader
//	add_scalar             AddScalar              ScalarValue / ScalarOf
//	add_scalars            AddScalars             (sub-runs <run>/<mainTag>_<key>)
//	add_histogram          AddHistogram           HistogramValue / HistogramOf
//	add_image              AddImage               ImageValue, ImageGrid
//	add_text               AddText                TextValue / TextOf
//	add_hparams            AddHParams             HParamsValues / HParamsOf
//	add_pr_curve           AddPRCurve             ComputePRCounts, PRCurveValue / PRCurveOf
//	add_pr_curve_raw       AddPRCurveRaw          PRCurveValue / PRCurveOf
//	add_audio              AddAudio               AudioValue, WAV / AudioOf
//	add_video              AddVideo               VideoValue, GIF / VideoOf
//	add_embedding          AddEmbedding           EmbeddingFiles / ReadProjectorConfig
//	add_graph              AddGraph               Graph, GraphEvent / GraphOf
//	add_custom_scalars     AddCustomScalars       CustomScalarsValue / CustomScalarsOf
//	add_mesh               AddMesh                MeshValues / MeshOf
//	walltime= argument     WithWallTime(t).AddX   -
//
// Every Add method checks its input (NaN where a plugin cannot show it,
// mismatched lengths, empty data, payloads over the record limit) and
// returns an error without writing anything; otherwise it queues one event.
//
// # Explicit wall times
//
// PyTorch's add_* methods take walltime=; [Writer.WithWallTime] returns a
// view of the Writer whose Add methods stamp that time instead of the
// clock's, so that importers and log-repair tools keep original times bit
// for bit (the time is the float64 seconds Event.wall_time stores). A view
// rather than an option on each method, because Go has no default
// arguments: an extra parameter on every Add method, or a second copy of
// each, would burden every call that does not need it, while a view is one
// method, composes with every present and future Add method, and keeps
// AddScalar free of allocations. It is the shape of [log/slog.Logger.With]:
// a cheap derived value sharing the same sink.
//
// # Files beside the event file
//
// AddScalars creates one sub-run directory per key, <run>/<mainTag>_<key>,
// each with its own event file that follows the contract below (file_version,
// START at Options.StartStep, resume, purge). AddEmbedding writes the
// projector's files under the run directory:
//
//	projector_config.pbtxt           ProjectorConfig in protobuf text format,
//	                                 one entry per embedding, replaced atomically
//	<step %05d>/<tag>/tensors.tsv    one vector per line, tab-separated
//	<step %05d>/<tag>/metadata.tsv   labels, a header row for several columns
//	<step %05d>/<tag>/sprite.png     thumbnails tiled in a square
//
// Each of these files is replaced atomically (temporary file, fsync,
// rename, directory fsync); entries of other tags and steps are kept, and an
// entry of the same tag and step is replaced.
//
// # One kind per tag
//
// Both TensorBoard loaders file a tag under the plugin of its first value
// and keep that value's metadata for good. A Writer therefore remembers the
// plugin ([PluginName]) of every tag it has queued and refuses, with a
// [*KindError], a value of another plugin under the same tag (an image under
// a scalar tag would make TensorBoard fail the whole tag), and refuses a
// second value of an hparams tag ([ErrHParamsRepeated]: TensorBoard would
// ignore it). The check is keyed by plugin name where events are queued
// (AddEvent, and AddScalar without allocating), so every summary kind goes
// through it. Events larger than [MaxRecordSize], which the reader would
// refuse, are refused too ([ErrRecordTooLarge]). A refused call queues
// nothing. Tags written by earlier sessions (other files of the run) are not
// known to a new Writer; [Run.Series] shows what TensorBoard makes of them.
//
// # Sessions, resume and purging
//
// A run is a directory holding event files; each writer session appends a new
// file to it. When training resumes from a checkpoint at step s, steps >= s
// that the earlier session logged are stale. The two TensorBoard loaders drop
// them differently:
//
//   - The Python EventAccumulator (tensorboard --load_fast=false) reads
//     file_version. For "brain.Event:2" it ignores the first SessionLog START
//     of a run and, at every later START with step s, drops every stored point
//     with step >= s in all tags. For files without a version (or < 2) it
//     instead drops, per tag, the points at steps >= s when an event at a step
//     s lower than the last seen summary step arrives.
//   - The Rust data server (the default loader of a pip-installed
//     TensorBoard) ignores SessionLog entirely. For each tag, a new point at
//     step s drops the stored points of that tag at steps >= s.
//
// The writer's contract: every session writes a START at its first step
// (Options.StartStep: 0 for a fresh run, s when resuming at s), and a caller
// that resumes at s must re-log every tag it wants continuous from step s on.
// Then each step appears exactly once in both loaders. Run-once data (text,
// hparams) written at step 0 survives every resume with s > 0. [Run.Series]
// applies either rule ([PythonPurge], [RustPurge]) so tests can assert what
// TensorBoard will show.
//
// # Object stores (S3)
//
// [Create], [ReadFile], [ReadLogdir] and [ReadRun] also take the URL of a store
// registered with storage.Register (cmd/train registers s3:// through
// storage/s3store). Objects cannot be appended to, so there each upload is
// a new object named <session's file name>.<9-digit sequence>: sorting after
// the previous one, starting with file_version, and only the session's
// first holding the SessionLog START; TensorBoard, which reads a run's event
// files in name order, sees one stream. An upload happens on Flush, Sync
// and Close, and otherwise when a flush finds [Options.ObjectInterval]
// (default 60 s) passed since the last upload or [Options.ObjectSize]
// (4 MiB) waiting. What is durable when: a local file's records once Sync
// (fdatasync) returns, a torn record possible after the last Sync; an
// object's records once the upload (a verified PUT, atomic) returns, and a
// crash loses what was not uploaded, never part of an object.
//
// # Concurrency
//
// A [Writer] is safe for concurrent use by multiple goroutines. Add methods
// build the summary (scalars are only stamped with the time; their bytes are
// encoded later, without allocating) and append it to a bounded queue of
// [Options.QueueSize] events. One background goroutine takes everything
// queued at once, frames and checksums it into a 64 KiB buffer and writes
// the buffer to the file. When the queue is full, Add blocks: events are
// never dropped. Events added by one goroutine are written in the order
// added; events from different goroutines in queue order. [Writer.Flush]
// puts a marker in the queue and returns once everything queued before it
// is written to the file; [Writer.Sync] also fsyncs the file. The buffer is
// also written every [Options.FlushInterval] (default
// [DefaultFlushInterval], 120 seconds: the default flush_secs of
// TensorBoard's EventFileWriter and of PyTorch's SummaryWriter). The first
// background write error is sticky: every later call returns it.
// [Writer.Close] is idempotent; it flushes, fsyncs and closes the file (and
// the AddScalars sub-run files), and every other method returns [ErrClosed]
// afterwards. AddEmbedding writes its files before it returns, not through
// the queue; the config updates of all Writers of a process are serialized. A Writer from
// [NewWriter] never closes the io.Writer it was given.
//
// [RecordWriter] and [RecordReader] are not safe for concurrent use.
// The reading functions ([ReadFile], [ReadLogdir], [ReadRun]) share no state.
package tbwriter
