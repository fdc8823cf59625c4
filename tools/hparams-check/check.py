"""check.py: what TensorBoard's HParams tab shows for tbtrain runs.

Usage: check.py CKPTINFO LOGDIR...

For each log directory (one run each), it loads the logdir with TensorBoard's
EventMultiplexer and data provider, asks the hparams plugin's
ListSessionGroups handler for every session (the HParams tab's table), prints
them, and checks each row against the checkpoints of the run (read with
`ckptinfo --json`, those set aside as *.abandoned included) that name the
row's directory as their hparams session. If one of them ends its extent
(epoch = its --epochs), the row must show status SUCCESS, end time = that
checkpoint's commit time, hyperparameter epochs = its --epochs, metrics
test/acc, test/loss, train/loss = the last epoch's, at its global step. If
none does (an extent given up before its end: --epochs changed on resume),
the row must show status UNKNOWN, no end time and no metrics. Exits 1 on any
mismatch.
"""

import json
import os
import struct
import subprocess
import sys

from tensorboard import context
from tensorboard.backend.event_processing import data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import api_pb2, backend_context, list_session_groups


def f32(x):
    """Round a float64 to float32, as the scalar summaries store it."""
    return struct.unpack("f", struct.pack("f", x))[0]


def sessions(logdir):
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, logdir)
    ctx = base_plugin.TBContext(logdir=logdir, multiplexer=mux, data_provider=provider)
    request = api_pb2.ListSessionGroupsRequest(
        start_index=0,
        slice_size=100,
        allowed_statuses=[
            api_pb2.STATUS_UNKNOWN,
            api_pb2.STATUS_SUCCESS,
            api_pb2.STATUS_FAILURE,
            api_pb2.STATUS_RUNNING,
        ],
    )
    handler = list_session_groups.Handler(
        context.RequestContext(), backend_context.Context(ctx), "", request
    )
    out = []
    for group in handler.run().session_groups:
        hp = {k: v.number_value for k, v in group.hparams.items()}
        for s in group.sessions:
            out.append((s, hp))
    return sorted(out, key=lambda x: x[0].name)


def checkpoints(ckptinfo, rundir):
    aside = [os.path.join(rundir, n) for n in sorted(os.listdir(rundir)) if ".ckpt.abandoned" in n]
    res = subprocess.run([ckptinfo, "--json", rundir] + aside, capture_output=True, text=True)
    doc = json.loads(res.stdout)
    reports = doc["dirs"][0]["checkpoints"] + doc.get("files", [])
    return [r["checkpoint"] for r in reports if r["ok"]]


def main():
    ckptinfo, logdirs = sys.argv[1], sys.argv[2:]
    bad = 0
    for logdir in logdirs:
        print("%s:" % os.path.basename(logdir))
        (run,) = [d for d in os.listdir(logdir) if os.path.isdir(os.path.join(logdir, d))]
        ckpts = checkpoints(ckptinfo, os.path.join(logdir, run))
        rows = sessions(logdir)
        if not rows:
            print("  FAIL: no HParams row")
            bad += 1
        for s, hp in rows:
            metrics = {m.name.tag: (m.value, m.training_step) for m in s.metric_values}
            print(
                "  %-36s %-15s end %.6f  epochs %g  test/acc %s"
                % (s.name, api_pb2.Status.Name(s.status), s.end_time_secs, hp.get("epochs", -1),
                   metrics.get("test/acc"))
            )
            session_dir = s.name.split("/", 1)[1] if "/" in s.name else ""
            mine = [c for c in ckpts if c.get("hparams_run") == session_dir]
            if not mine:
                print("    FAIL: no checkpoint names %r" % session_dir)
                bad += 1
                continue
            ended = [c for c in mine if c["epoch"] == c["config"]["epochs"] and c["batch_in_epoch"] == 0]
            if ended:
                c = max(ended, key=lambda c: c["unix_nano"])
                last = c["history"][-1]
                want = {
                    "status": "STATUS_SUCCESS",
                    "end": c["unix_nano"] / 1e9,
                    "epochs": c["config"]["epochs"],
                    "test/acc": (f32(last["test_acc"]), c["global_step"]),
                    "test/loss": (f32(last["test_loss"]), c["global_step"]),
                    "train/loss": (f32(last["train_loss"]), c["global_step"]),
                }
                note = "checkpoint step %d (commit %.6f) ended it" % (c["global_step"], c["unix_nano"] / 1e9)
            else:
                c = mine[0]
                want = {
                    "status": "STATUS_UNKNOWN",
                    "end": 0,
                    "epochs": c["config"]["epochs"],
                    "test/acc": None,
                    "test/loss": None,
                    "train/loss": None,
                }
                note = "no checkpoint ended it (given up before its end)"
            got = {
                "status": api_pb2.Status.Name(s.status),
                "end": s.end_time_secs,
                "epochs": hp.get("epochs"),
                "test/acc": metrics.get("test/acc"),
                "test/loss": metrics.get("test/loss"),
                "train/loss": metrics.get("train/loss"),
            }
            for k in want:
                ok = abs(got[k] - want[k]) < 1e-6 if k == "end" else got[k] == want[k]
                if not ok:
                    print("    FAIL %s: TensorBoard shows %r, the checkpoint says %r" % (k, got[k], want[k]))
                    bad += 1
            print("    = " + note)
    print("FAIL: %d mismatches" % bad if bad else "OK: every HParams row matches the checkpoint that ended it")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
