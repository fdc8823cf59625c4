#!/usr/bin/python3
"""Checks that TensorBoard's own Python loader shows every step of a run's
scalar curves exactly once, with the values of the session that logged that
step last, and says what its purging dropped.

    eval "$(tools/tensorboard-env.sh /path/to/tensorboard-source)"
    /usr/bin/python3 tools/tb-curve-check.py LOGDIR [TAG ...]

TAGs default to the PyTorch demo recipe's train/loss, learning_rate, test/acc
and test/loss. For each run the loader is tensorboard's EventMultiplexer with
purge_orphaned_data=True (TensorBoard's default) and no sampling. The expected
curve is read from the event files themselves, oldest file first, with no
purge rule at all: a step's value is the last one logged for it. That is the
curve a run continued in its own directory must show (each session logs every
epoch from its first one on). The loader's "Detected out of order event.step
... Purging N expired tensor events" warnings are collected and printed with
the steps and values they removed. Exits 1 when a curve differs.
"""
import collections
import logging
import os
import sys

from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.util import tensor_util

DEMO_TAGS = ["train/loss", "learning_rate", "test/acc", "test/loss"]


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _value(tensor):
    return float(tensor_util.make_ndarray(tensor).item())


def _from_files(rundir, tags):
    """The last value logged per step per tag, oldest event file first."""
    want = {t: collections.OrderedDict() for t in tags}
    every = {t: [] for t in tags}
    files = sorted(f for f in os.listdir(rundir) if "tfevents" in f)
    for name in files:
        for ev in event_file_loader.EventFileLoader(os.path.join(rundir, name)).Load():
            for v in ev.summary.value:
                if v.tag in want:
                    val = _value(v.tensor) if v.HasField("tensor") else v.simple_value
                    want[v.tag][ev.step] = val
                    every[v.tag].append((ev.step, val, name))
    return {t: sorted(d.items()) for t, d in want.items()}, every


def main():
    logdir = sys.argv[1]
    tags = sys.argv[2:] or DEMO_TAGS
    collect = _Collect()
    logging.getLogger("tensorboard").addHandler(collect)
    mux = pem.EventMultiplexer(size_guidance={"tensors": 0, "scalars": 0}, purge_orphaned_data=True)
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    bad = 0
    for run in sorted(mux.Runs()):
        rundir = os.path.join(logdir, run) if run != "." else logdir
        acc = mux.GetAccumulator(run)
        have = set(acc.Tags()["tensors"])
        want, every = _from_files(rundir, tags)
        for tag in tags:
            if tag not in have:
                continue
            got = [(e.step, _value(e.tensor_proto)) for e in acc.Tensors(tag)]
            exp = want[tag]
            ok = got == exp
            bad += not ok
            logged = len(every[tag])
            print(f"{run}\t{tag}\t{len(got)} points, steps {[s for s, _ in got]}\t"
                  f"{logged} logged in {len({f for _, _, f in every[tag]})} files\t"
                  f"{'OK: each step once, values of the last session' if ok else 'DIFFERS'}")
            if not ok:
                print(f"    loader: {got}\n    files:  {exp}")
            replaced = [(s, v, f) for s, v, f in every[tag] if dict(exp).get(s) != v]
            for s, v, f in replaced:
                print(f"    step {s} value {v!r} of {f} replaced by a later session's {dict(exp).get(s)!r}")
    for m in collect.messages:
        print("loader warning:", m)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
