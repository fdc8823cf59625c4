// Package ckpt stores training checkpoints ([ckptpb.Checkpoint]) in files
// that are integrity-checked, versioned and committed atomically.
//
// # File format
//
// A checkpoint file is an envelope around one serialized Checkpoint. All
// integers are little-endian; CRCs are CRC-32C (Castagnoli, RFC 3720), the
// checksum TFRecord and etcd's WAL use.
//
//	offset  size  field
//	0       8     magic 89 54 42 43 0d 0a 1a 0a ("\x89TBC\r\n\x1a\n", built like PNG's signature)
//	8       4     envelope version (1)
//	12      8     payload length n (at most 1 GiB)
//	20      4     CRC-32C of bytes 0..19 (the header)
//	24      n     payload: protobuf-encoded tbtrain.ckpt.Checkpoint
//	24+n    4     CRC-32C of the payload
//
// The file is exactly 28+n bytes long. Every future envelope version keeps the
// first 24 bytes' layout, so a reader tells a damaged header (header CRC
// mismatch: [ErrCorrupt]) from a genuine newer version ([ErrVersion]).
// Checkpoint.format_version versions the meaning of the payload separately.
//
// [Load] checks, in order: the file is a regular file; the magic
// ([ErrNotCheckpoint]); the header is complete ([ErrTruncated]) and its CRC
// matches ([ErrCorrupt]); the envelope version ([ErrVersion]); the file
// length against n ([ErrTruncated] if short, [ErrCorrupt] if long); the
// payload CRC ([ErrCorrupt]). Only then is the payload decoded — as data:
// unlike torch.load, loading runs no code — and checked for consistency
// (format_version: [ErrVersion]; tensor shapes against data lengths, momentum
// buffers against parameters: [ErrInvalid]). Every error is an *[Error]
// naming the file.
//
// # Durability
//
// [Save] commits in a fixed order: temp file in the destination directory,
// write, fsync (fdatasync on Linux, F_FULLFSYNC on macOS), close, rename over
// the final name, fsync the directory. A crash at any point leaves the old
// file or the complete new one under the final name, never a torn one; the
// only debris is a hidden temp file ("." + name + ".tmp-" + digits), which
// [List] skips and [CleanTemp] removes. When a step fails, Save removes its
// temp file and returns the error; the previous checkpoint is untouched.
//
// # Object stores (S3)
//
// Paths may also be URLs of a store registered with storage.Register
// (s3://bucket/key, through storage/s3store). A PUT is atomic there (the
// object is whole or absent), so [Save] is one PUT of the enveloped
// checkpoint, verified by reading back its length and MD5 (the store's
// Put), with no temp object; [CleanTemp] has nothing to do; [SetAside]
// copies and deletes, as objects cannot be renamed, and finishes a move a
// crash cut between the two. [Load], [List], [Newest] and [Prune] read,
// list and delete objects the same way they do files.
//
// # Directories
//
// A run directory holds checkpoints named by the caller with the extension
// [Ext]. [List] verifies each; [Newest] returns the newest that verifies
// (highest global step) and reports the others; [Prune] keeps the newest k
// valid ones and never deletes the newest, the most recently committed or an
// unverifiable file.
//
// # Set-aside
//
// [SetAside] renames several checkpoints of a directory (a resumed run's
// abandoned timeline) as one decision: it first commits the list of renames
// to the file [AsideRecord] (".tbtrain-setaside", lines "<from>\t<to>" after
// the header line "tbtrain set-aside 1", written like a checkpoint: temp
// file, fsync, rename, directory fsync), then renames, syncs the directory
// and removes the record. While a record exists, [List] marks the files it
// names as Aside, [Newest] skips them and [Prune] keeps them: a crash half
// way through never leaves a file meant to be set aside as the newest. The
// next SetAside replaces the record. A record that does not parse is an
// [ErrCorrupt] error of List naming it.
//
// # Concurrency
//
// The functions are safe to call from several goroutines, but a directory
// must have one writer at a time: two concurrent Saves to the same path are
// each atomic but the last rename wins, and CleanTemp or Prune racing a Save
// may remove its temp file (the Save then fails cleanly) or a file it was
// about to keep. Readers ([Load], [List], [Newest]) may run alongside a
// writer: they see either the old or the new file.
package ckpt
