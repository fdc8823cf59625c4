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

func main() {
	log.SetFlags(0)
	log.SetPrefix("tbmerge: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a problem with the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode prints err and maps it to the documented exit status.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, new(*damagedError)):
		fmt.Fprintf(stderr, "tbmerge: %v\n", err)
		return 3
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "tbmerge: %v\ntbmerge: run 'tbmerge --help' for usage\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "tbmerge: %v\n", err)
	return 1
}

const usage = `tbmerge makes one TensorBoard run out of a split or duplicated one: a
training resumed into a new log directory, or a run that shows steps twice
(PyTorch's purge_step, a restart without one).

Usage:
  tbmerge [flags] -o OUT INPUT...

Each INPUT is an event file or a run directory; every event file is one
session of the same training. Sessions are ordered by the wall time of their
first event (--order=given: as listed). A later session's values win from its
first step on (its SessionLog START step, else its first summary's step): the
earlier sessions' summaries at those steps and later are dropped in every tag.
OUT (a new directory) gets one event file with the kept records copied byte
for byte. Inputs are never modified; damaged inputs are reported with the byte
offset and their readable part is used (exit status 3 unless --allow-damaged).

Examples:
  tbmerge -o runs/merged log/2022-08-15_21-22-40 log/2022-08-15_21-27-07
  tbmerge --dry-run -o runs/merged log/a log/b      # print the plan only
  tbmerge --order=given -o fixed b/events.out.tfevents.1 a/events.out.tfevents.2
  tbmerge --allow-damaged -o fixed log/crashed-run   # a torn last record is expected
  tensorboard --logdir runs/merged

Exit status: 0 success; 1 failure (nothing written); 2 bad command line; 3 an
input was damaged: OUT was written from the readable part of each file (or the
plan printed) and the damage reported on stderr with file and byte offset;
--allow-damaged turns that 3 into 0.

Flags:
`
