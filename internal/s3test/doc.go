// Package s3test gives tests a real S3 server: SeaweedFS on 127.0.0.1,
// started through tools/seaweedfs.sh (which builds it from the Go module
// proxy into a cache directory; see that script). One server serves every
// test of a test binary; [Main] stops it when they are done.
//
// Tests that need the server call [Get]; a test that stops and restarts
// its server calls [Private] for one of its own, so that it can run in
// parallel with the others. Without a built binary they skip, saying how to
// build it; with CI=true in the environment they fail instead.
// TBTRAIN_S3_ENDPOINT names an already running server to use instead of the
// shared one. TBTRAIN_S3_TESTS=skip skips every S3 test, even under CI=true:
// CI sets it in the one of its two test passes that does not run them.
//
// A server is stopped with SIGKILL (tools/seaweedfs.sh kill), as a crash
// would stop it: SeaweedFS does not finish a SIGTERM shutdown within 10 s,
// and what it acknowledged is readable after a restart either way.
package s3test
