// Package s3store implements [storage.Store] over one bucket of an
// S3-compatible object store (AWS S3, MinIO, SeaweedFS, ...) with the
// maintained minio-go client; no request signing is written here.
//
// Locations are written s3://bucket/key. [ConfigFromEnv] reads the
// variables the AWS tools and TensorBoard read (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL and TensorBoard's S3_ENDPOINT), so
// one environment serves the trainer and `tensorboard --logdir s3://...`.
// With an endpoint set, requests use path-style addressing
// (http://host:port/bucket/key), which self-hosted servers serve.
//
// # What is durable when
//
// A PUT is atomic: the object is whole or absent. [Store.Put] is a single
// PUT (never a multipart upload) carrying Content-MD5, after which the
// object's length and MD5 are read back (HEAD; the ETag of a plain PUT is
// the MD5 of its body; where it is not, the bytes are read back) and must
// match: when Put returns nil the object is stored and verified. There is no
// append and no rename: callers that grow a file (event writers) upload
// each flush as a new object, and callers that would rename copy.
// [Store.PutNew] sends If-None-Match: * (honoured by AWS S3 since 2024, MinIO
// and the SeaweedFS the tests run against), so of concurrent creators of a
// key one wins and the others get fs.ErrExist. [Store.PutIfVersion] sends
// If-Match with an ETag that [Store.GetVersion] returned (a compare-and-swap,
// honoured by the same servers), so of concurrent writers that read one
// version one replaces it and the others get storage.ErrChanged.
//
// # Retries
//
// All retrying happens in one function: a request that fails with a
// transient error (connection refused or reset, a timeout, HTTP 5xx, 429,
// SlowDown) is repeated after a pause that doubles from [Retry.Base] to
// [Retry.Max], until [Retry.For] has passed since the first attempt (60 s by
// default); then the error is returned, naming the bucket and key and the
// number of attempts. minio-go's own retries are switched off. Every
// request retried is idempotent (PUT of the same bytes, GET, HEAD, LIST,
// DELETE), except the conditional writes of PutNew and PutIfVersion, which
// on a retry that the server refuses read the key back and succeed only if
// it holds exactly the bytes they were writing (an earlier attempt of their
// own whose answer was lost).
//
// # Concurrency
//
// A [Store] is safe for concurrent use.
package s3store
