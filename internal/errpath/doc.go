// Package errpath keeps error messages from naming a path twice.
//
// The os package's errors carry their path: a failed write to f reads
// "write /runs/x/.a.tmp-1: no space left on device". A caller that adds
// context naming the same file ("save /runs/x/a.ckpt: writing temp file
// /runs/x/.a.tmp-1: ...") would then name it twice. [Bare] returns an error
// that prints only the cause when the message around it already names every
// path the os error holds, and still unwraps to the os error, so errors.Is
// (fs.ErrNotExist, syscall.ENOSPC, ...) and errors.As (*fs.PathError) see the
// same chain as before.
package errpath
