// Package s3test gives tests a real S3 server: SeaweedFS on 127.0.0.1,
// started through tools/seaweedfs.sh (which builds it from the Go module
// proxy into a cache directory; see that script). One server serves every
// test of a test binary; [Main] stops it when they are done.
//
// Tests that need the server call [Get]. Without a built binary they skip,
// saying how to build it; with CI=true in the environment they fail instead.
// TBTRAIN_S3_ENDPOINT names an already running server to use instead (then
// the tests that stop and restart the server skip, or fail under CI=true).
package s3test
