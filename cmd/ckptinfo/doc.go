// Command ckptinfo inspects tbtrain checkpoint files: it verifies each one
// (envelope, checksums, content) and prints its position (epoch, global step,
// batch within the epoch), model, kernel, optimizer and schedule state, the
// training configuration and the per-epoch metrics history. For a run
// continued from a PyTorch checkpoint (train --resume FILE.pt) it adds the
// step axis (epoch tags at step = epoch), the epoch the run was continued
// at and the anchor of PyTorch's learning-rate schedule (JSON:
// step_convention, first_epoch, scheduler.anchor).
//
// Usage:
//
//	ckptinfo [flags] [PATH ...]
//
// A PATH that is a directory lists every checkpoint in it (*.ckpt, oldest to
// newest by global step) with its validity. With no PATH, or "-", it reads one
// checkpoint from standard input. --json prints JSON instead of text;
// --tensors adds per-tensor statistics. Each report names the build of
// tbtrain that wrote the checkpoint (module version and git revision), and
// --version prints this binary's own.
//
// The exit status is 0 when every checkpoint named or listed verifies, 1 when
// any fails (the output says which and why) or a path cannot be read, and 2
// for a bad command line.
package main
