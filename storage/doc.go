// Package storage is the seam between tbtrain and where it keeps a run:
// the [Store] interface that ckpt, tbwriter and the trainer program
// against, and [Local], its implementation over local files. The S3
// implementation lives in storage/s3store, so that programs writing only
// local files do not compile or link an S3 client.
//
// # Keys
//
// Keys are slash-separated paths. [Local] takes a key as a file path
// (relative to the working directory, or absolute); s3store takes it as an
// object key in its bucket, and [Store.List] treats "/" as the directory
// separator in both.
//
// # What is durable when
//
// Local files ([Local]):
//   - Put writes a hidden temp file in the target directory, fsyncs it
//     (fdatasync on Linux, F_FULLFSYNC on macOS), closes it, renames it over
//     the key and fsyncs the directory. When Put returns nil the new content
//     survives a crash or power loss; a crash before that leaves the old
//     content under the key plus at most a temp file ([IsTemp]) that
//     [Local.CleanTemp] removes.
//   - PutNew does the same but commits with link(2), which refuses an
//     existing name, so of concurrent creators exactly one wins.
//   - Append creates a file exclusively for one writer to append to; what
//     was written is durable once [AppendFile.Sync] returns (fdatasync).
//     A crash may leave a torn last record after the last Sync; readers of
//     event files stop there, as TensorBoard does.
//
// S3 (s3store): objects cannot be appended to or renamed, and a single PUT
// is atomic (the object is whole or absent, never partial).
//   - Put is one PUT with Content-MD5, verified by reading back the object's
//     length and MD5 (its ETag); when it returns nil the object is stored
//     as S3 stores anything (replicated, per the server's durability).
//   - PutNew sends If-None-Match: *, which AWS S3, MinIO and SeaweedFS
//     honour; a server that ignores the header would let a second creator
//     overwrite the first (the conformance suite's PutNewRace catches that).
//   - PutIfVersion ([Swapper]) sends If-Match with the ETag read, honoured
//     by AWS S3 (since November 2024), MinIO and SeaweedFS: of writers that
//     read the same version, one replaces it (PutIfVersionRace).
//   - An event writer on S3 uploads each flush as a new object; see
//     tbwriter.
//
// # Errors
//
// Every error about a key is an *[Error] naming the backend, bucket and
// key; errors.Is(err, fs.ErrNotExist) tells a missing object on every
// backend, and fs.ErrExist an object PutNew found. Transient S3 failures are
// retried inside s3store, in one place, with a bounded backoff; Local does
// not retry.
//
// # Concurrency
//
// Stores are safe for concurrent use. Two Puts to one key are each atomic
// and the last one wins; callers that need a single writer take a lease
// (PutNew) or a lock first.
package storage
