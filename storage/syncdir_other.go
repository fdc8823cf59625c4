//go:build !unix

package storage

// syncDir does nothing where directories cannot be opened for syncing
// (Windows: a rename is made durable by the file system's own journal, and
// FlushFileBuffers does not accept directory handles).
func syncDir(dir string) error { return nil }
