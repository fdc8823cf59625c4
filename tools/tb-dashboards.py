#!/usr/bin/python3
"""Lists which TensorBoard tabs a trainer run lights up, and what each serves.

    eval "$(tools/tensorboard-env.sh /work/.mirror/tensorflow+tensorboard/repo)"
    /usr/bin/python3 tools/tb-dashboards.py LOGDIR [--require PLUGIN,...] [--image TAG --out FILE]

LOGDIR holds run directories written by cmd/train. The script builds the WSGI
app of TensorBoard's own server (application.TensorBoardWSGIApp with the
default plugins and the projector, which a pip-installed TensorBoard loads
through its "tensorboard_plugins" entry point; the Python loader, as
--load_fast=false: an EventMultiplexer behind MultiplexerDataProvider), in
process, without opening a port and without the gRPC module that the Rust
data server's client needs. It asks the app for /data/plugins_listing (what
the frontend reads to decide which tabs to show) and then, for every active
plugin, calls its data routes and prints one line per plugin saying what it
serves for each run: tags, steps, sizes, the last values.

--require lists plugins that must be active, each with data; the script exits
1 if one is not. --image TAG --out FILE also writes the last image of TAG (of
the first run), as the Images tab serves it, to FILE (docs/img/confusion.png
is made this way).
"""
import argparse
import json
import struct
import sys
import time
import urllib.parse

import werkzeug.test
from tensorboard import default, version
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins.projector import projector_plugin

FAILED = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logdir")
    ap.add_argument("--require", default="", help="comma-separated plugin names that must be active, with data")
    ap.add_argument("--image", default="", help="tag of an image to write to --out")
    ap.add_argument("--out", default="", help="file for --image")
    args = ap.parse_args()

    plugins = default.get_plugins() + [projector_plugin.ProjectorPlugin]
    # The flags `tensorboard --logdir LOGDIR --load_fast=false` gives the app
    # and its plugins (TensorBoard's own parser and the plugins' defaults).
    parser = argparse.ArgumentParser()
    for loader in map(application.make_plugin_loader, plugins):
        loader.define_flags(parser)
    flags = parser.parse_args(["--logdir", args.logdir, "--load_fast=false"])
    for loader in map(application.make_plugin_loader, plugins):
        loader.fix_flags(flags)
    mux = plugin_event_multiplexer.EventMultiplexer(size_guidance={"tensors": 0, "scalars": 0, "images": 0,
                                                                   "histograms": 0}, purge_orphaned_data=True)
    mux.AddRunsFromDirectory(args.logdir)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, args.logdir)
    app = application.TensorBoardWSGIApp(flags, plugins, provider, None, mux)
    client = werkzeug.test.Client(app)

    def get(path, **params):
        resp = client.get(path, query_string=urllib.parse.urlencode(params) if params else None)
        if resp.status_code != 200:
            raise RuntimeError("%s %s: HTTP %d: %s" % (path, params, resp.status_code, resp.get_data()[:300]))
        return resp.get_data()

    def get_json(path, **params):
        return json.loads(get(path, **params))

    print("TensorBoard %s, Python loader (--load_fast=false), logdir %s" % (version.VERSION, args.logdir))
    # The projector decides whether it is active in a thread of its own and
    # says no until that thread has looked at the run directories; the
    # frontend asks again, so does this script (for up to 30 s).
    deadline = time.time() + 30
    while True:
        listing = get_json("/data/plugins_listing")
        active = sorted(name for name, v in listing.items() if v.get("enabled"))
        if "projector" in active or time.time() > deadline:
            break
        time.sleep(0.2)
    print("active plugins: %s" % ", ".join(active))
    runs = sorted(get_json("/data/runs"))
    print("runs: %s" % ", ".join(runs))
    # The projector answers only for the runs it lists (those with a
    # projector_config.pbtxt), not for the hparams session subdirectories.
    projector_runs = get_json("/data/plugin/projector/runs") if "projector" in active else []

    served = {}

    def report(plugin, text, has_data):
        # A plugin serves data if it does for some run (the hparams
        # session subdirectories hold only the session and its metrics).
        served[plugin] = served.get(plugin, False) or has_data
        print("  %-15s %s" % (plugin, text if has_data else "-"))

    def tags_of(plugin):
        return get_json("/data/plugin/%s/tags" % plugin)

    for run in runs:
        print("run %s:" % run)
        if "scalars" in active:
            tags = tags_of("scalars").get(run, {})
            parts = []
            for tag in sorted(tags):
                pts = get_json("/data/plugin/scalars/scalars", run=run, tag=tag)
                parts.append("%s (%d points, last %.6g at step %d)" % (tag, len(pts), pts[-1][2], pts[-1][1]))
            report("scalars", "; ".join(parts), bool(parts))
        if "images" in active:
            tags = tags_of("images").get(run, {})
            parts = []
            for tag in sorted(tags):
                imgs = get_json("/data/plugin/images/images", run=run, tag=tag)
                last = imgs[-1]
                png = get("/data/plugin/images/individualImage?" + last["query"])
                w, h = struct.unpack(">II", png[16:24])
                parts.append("%s (%d images, last at step %d: %dx%d PNG, %d bytes)" % (tag, len(imgs), last["step"], w, h, len(png)))
                if tag == args.image and args.out and run == runs[0]:
                    with open(args.out, "wb") as f:
                        f.write(png)
            report("images", "; ".join(parts), bool(parts))
        if "histograms" in active:
            tags = tags_of("histograms").get(run, {})
            n = [len(get_json("/data/plugin/histograms/histograms", run=run, tag=t)) for t in sorted(tags)]
            report("histograms", "%d tags (%s), %d histograms each" % (len(tags), ", ".join(sorted(tags)), max(n or [0])), bool(tags))
        if "distributions" in active:
            tags = tags_of("distributions").get(run, {})
            parts = []
            for tag in sorted(tags)[:1]:
                d = get_json("/data/plugin/distributions/distributions", run=run, tag=tag)
                parts.append("%s: %d steps, last step %d, %d percentiles per step" % (tag, len(d), d[-1][1], len(d[-1][2])))
            report("distributions", "%d tags; %s" % (len(tags), "; ".join(parts)), bool(tags))
        if "text" in active:
            tags = tags_of("text").get(run, [])
            parts = []
            for tag in sorted(tags):
                t = get_json("/data/plugin/text/text", run=run, tag=tag)
                parts.append("%s (%d, last at step %d, %d chars of HTML)" % (tag, len(t), t[-1]["step"], len(t[-1]["text"])))
            report("text", "; ".join(parts), bool(parts))
        if "pr_curves" in active:
            tags = tags_of("pr_curves").get(run, {})
            parts = []
            for tag in sorted(tags):
                pr = get_json("/data/plugin/pr_curves/pr_curves", run=run, tag=tag)[run]
                e = pr[-1]
                mid = len(e["thresholds"]) // 2
                parts.append("%s (%d steps; last at step %d: %d thresholds, at %.2f precision %.4f recall %.4f)" % (
                    tag, len(pr), e["step"], len(e["thresholds"]), e["thresholds"][mid], e["precision"][mid], e["recall"][mid]))
            report("pr_curves", "; ".join(parts), bool(parts))
        if "graphs" in active:
            info = get_json("/data/plugin/graphs/info").get(run, {})
            text = ""
            if info.get("run_graph"):
                g = get("/data/plugin/graphs/graph", run=run, conceptual="false").decode()
                ops = [line.split('"')[1] for line in g.splitlines() if line.strip().startswith("op:")]
                text = "run graph: %d nodes (%d Parameter; ops %s)" % (
                    len(ops), ops.count("Parameter"), ", ".join(o for o in dict.fromkeys(ops) if o != "Parameter"))
            report("graphs", text or "no run graph", bool(text))
        if "projector" in active and run in projector_runs:
            info = get_json("/data/plugin/projector/info", run=run)
            parts = []
            for e in info.get("embeddings", []):
                raw = get("/data/plugin/projector/tensor", run=run, name=e["tensorName"])
                md = get("/data/plugin/projector/metadata", run=run, name=e["tensorName"]).decode().splitlines()
                sprite = get("/data/plugin/projector/sprite_image", run=run, name=e["tensorName"])
                w, h = struct.unpack(">II", sprite[16:24])
                parts.append("%s: tensor %s (%d float32 served), metadata columns %s with %d rows, sprite %dx%d of %s images" % (
                    e["tensorName"], e["tensorShape"], len(raw) // 4, md[0].split("\t"), len(md) - 1, w, h,
                    "x".join(map(str, e["sprite"]["singleImageDim"]))))
            report("projector", "; ".join(parts) or "no embeddings", bool(parts))
        if "hparams" in active:
            body = json.dumps({"experimentName": "", "allowedStatuses": ["STATUS_SUCCESS", "STATUS_RUNNING", "STATUS_FAILURE", "STATUS_UNKNOWN"],
                               "colParams": [], "startIndex": 0, "sliceSize": 100}).encode()
            resp = client.post("/data/plugin/hparams/session_groups", data=body, content_type="application/json")
            groups = json.loads(resp.get_data()).get("sessionGroups", [])
            exp = json.loads(client.post("/data/plugin/hparams/experiment", data=b"{}", content_type="application/json").get_data())
            metrics = {}
            for g in groups:
                for s in g.get("sessions", []):
                    if s["name"] == run or s["name"] == run + "/." or s["name"].startswith(run):
                        for m in s.get("metricValues", []):
                            metrics[m["name"]["tag"]] = "%.6g at step %d" % (m["value"], m["trainingStep"])
                        status = s.get("status")
            report("hparams", "%d hparams (%s); session status %s; metrics %s" % (
                len(exp.get("hparamInfos", [])), ", ".join(h["name"] for h in exp.get("hparamInfos", [])),
                status if metrics else "-", ", ".join("%s %s" % kv for kv in sorted(metrics.items()))), bool(metrics))
    if "custom_scalars" in active:
        layout = get_json("/data/plugin/custom_scalars/layout")
        charts = ["%s: %s" % (ch["title"], " ".join(ch.get("multiline", {}).get("tag", [])))
                  for c in layout.get("category", []) for ch in c.get("chart", [])]
        data = []
        for c in layout.get("category", []):
            for ch in c.get("chart", []):
                for regex in ch.get("multiline", {}).get("tag", []):
                    r = get_json("/data/plugin/custom_scalars/scalars", run=runs[0], tag=regex)
                    for tag, pts in sorted(r.get("tag_to_events", {}).items()):
                        data.append("%s %d points" % (tag, len(pts)))
        report("custom_scalars", "layout (all runs): %s; %s draws %s" % ("; ".join(charts), runs[0] if runs else "-",
                                                                     ", ".join(data)), bool(charts) and bool(data))

    for name in [p for p in args.require.split(",") if p]:
        if name not in active:
            FAILED.append("%s not active" % name)
        elif not served.get(name):
            FAILED.append("%s active but serves no data" % name)
    if FAILED:
        print("FAIL: " + "; ".join(FAILED))
        sys.exit(1)
    if args.require:
        print("all %d required plugins active, each with data" % len(args.require.split(",")))


if __name__ == "__main__":
    main()
