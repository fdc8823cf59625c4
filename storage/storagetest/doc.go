// Package storagetest is the conformance suite of [storage.Store]
// implementations: every backend runs the same tests (as go-cloud's
// blob/drivertest does for its drivers), so ckpt and tbwriter can rely on
// what the interface documents whatever the backend.
package storagetest
