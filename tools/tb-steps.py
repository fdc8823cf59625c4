#!/usr/bin/python3
"""Prints what TensorBoard's own Python loader shows for a log directory: per
run and tag, the steps served, and whether any step appears more than once.

    eval "$(tools/tensorboard-env.sh /path/to/tensorboard-source)"
    /usr/bin/python3 tools/tb-steps.py LOGDIR

Uses tensorboard.backend.event_processing.plugin_event_multiplexer with
purge_orphaned_data=True (TensorBoard's default) and no sampling (every point
kept), i.e. `tensorboard --load_fast=false`. Exits 1 if a step repeats.
"""
import collections
import sys

from tensorboard.backend.event_processing import plugin_event_multiplexer as pem


def main():
    logdir = sys.argv[1]
    mux = pem.EventMultiplexer(size_guidance={"tensors": 0, "scalars": 0}, purge_orphaned_data=True)
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    dups = 0
    for run in sorted(mux.Runs()):
        acc = mux.GetAccumulator(run)
        for tag in sorted(acc.Tags()["tensors"]):
            steps = [e.step for e in acc.Tensors(tag)]
            rep = [s for s, n in collections.Counter(steps).items() if n > 1]
            dups += len(rep)
            span = f"{steps[0]}..{steps[-1]}" if steps else "-"
            print(f"{run}\t{tag}\t{len(steps)} points\tsteps {span}\trepeated {sorted(rep) or 'none'}")
    sys.exit(1 if dups else 0)


if __name__ == "__main__":
    main()
