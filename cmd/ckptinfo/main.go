package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitBad   = 1 // a checkpoint failed verification or a path could not be read
	exitUsage = 2 // bad command line
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("ckptinfo: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
	case errors.As(err, new(usageError)):
		log.Print(err)
		os.Exit(exitUsage)
	default:
		log.Print(err)
		os.Exit(exitBad)
	}
}

// usageError is a problem with the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

const usage = `ckptinfo verifies tbtrain checkpoints and prints what they hold: position
(epoch, global step, batch within the epoch), model, kernel, optimizer and
learning-rate schedule state, the training config and the metrics history.

Usage:
  ckptinfo [flags] [PATH ...]

A PATH that is a directory lists every *.ckpt file in it, oldest to newest by
global step, with its validity. With no PATH or "-", one checkpoint is read
from standard input. Exit status: 0 if everything verifies, 1 if any
checkpoint fails (the output says which and why), 2 for a bad command line.

Examples:
  ckptinfo runs/2026-11-29_12-00-00/LenetMnist9.ckpt   # one checkpoint
  ckptinfo runs/2026-11-29_12-00-00                    # all checkpoints of a run
  ckptinfo --json runs/*/LenetMnist9.ckpt | jq .       # machine-readable
  ckptinfo --tensors LenetMnist9.ckpt                  # plus per-tensor statistics
  ckptinfo < LenetMnist9.ckpt                          # from standard input
  ckptinfo --export LenetMnist9.pt LenetMnist9.ckpt    # for PyTorch's torch.load (the demo's dict)
  ckptinfo --export model.safetensors LenetMnist9.ckpt # the weights for the Hugging Face tools

--export OUT CKPT writes one checkpoint for PyTorch instead of reporting: with
OUT ending in .pt, a torch.save file holding the PyTorch demo recipe's dict
(start_epoch, model_state_dict, optimizer_state_dict with momentum buffers and
param_groups, scheduler_state_dict of CosineAnnealingLR), which the recipe's
torch.load and load_state_dict calls resume; with .safetensors, the weights
under their state_dict names. Only epoch-end checkpoints (LenetMnist<e>.ckpt)
can be exported. OUT must not exist.

Flags:
`

// printUsage writes the help text and the flag list to w.
func printUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, usage)
	fs.SetOutput(w)
	fs.PrintDefaults()
}
