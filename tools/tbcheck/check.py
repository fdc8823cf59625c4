#!/usr/bin/python3
"""Checks that TensorBoard serves what tools/tbcheck wrote (see run.sh).

    /usr/bin/python3 tools/tbcheck/check.py LOGDIR

LOGDIR holds the run kinds/ and expected.json written by
`go run ./tools/tbcheck -logdir LOGDIR`. This loads LOGDIR with TensorBoard's
own Python loader (EventMultiplexer, as `tensorboard --load_fast=false`),
builds each plugin as TensorBoard's server does, calls the plugin's HTTP data
routes (the WSGI apps TensorBoard mounts under /data/plugin/NAME; in process,
so no port and no gRPC module is needed), and compares the answers with expected.json: PR curves, audio, video (a GIF in
the Images tab), graph, custom scalar layout, mesh, projector config,
tensors, metadata and sprite, the scalars of the AddScalars sub-runs, and a
wall time given explicitly. Prints one line per check and exits 1 if any
fails.
"""
import base64
import json
import os
import struct
import sys
import time
import urllib.parse
import urllib.request

import argparse

import werkzeug.test
from tensorboard import version
from tensorboard.backend.event_processing import data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.plugins import base_plugin
from tensorboard.plugins.audio import audio_plugin
from tensorboard.plugins.custom_scalar import custom_scalars_plugin
from tensorboard.plugins.graph import graphs_plugin
from tensorboard.plugins.image import images_plugin
from tensorboard.plugins.mesh import mesh_plugin
from tensorboard.plugins.pr_curve import pr_curves_plugin
from tensorboard.plugins.projector import projector_plugin
from tensorboard.plugins.scalar import scalars_plugin

FAILED = []


def f32(x):
    """x rounded to float32, as a Python float (Go's JSON prints float32s shortest)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + (": " + detail if detail else ""))
    if not ok:
        FAILED.append(name)


def main():
    logdir = sys.argv[1]
    with open(os.path.join(logdir, "expected.json")) as f:
        exp = json.load(f)
    mux = pem.EventMultiplexer(size_guidance={"tensors": 0, "scalars": 0, "images": 0, "audio": 0},
                               purge_orphaned_data=True)
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, logdir)
    flags = argparse.Namespace(logdir=logdir, samples_per_plugin={}, load_fast="false")
    ctx = base_plugin.TBContext(logdir=logdir, data_provider=provider, multiplexer=mux, flags=flags)
    routes = {}
    for cls in (scalars_plugin.ScalarsPlugin, pr_curves_plugin.PrCurvesPlugin, audio_plugin.AudioPlugin,
                images_plugin.ImagesPlugin, graphs_plugin.GraphsPlugin, custom_scalars_plugin.CustomScalarsPlugin,
                mesh_plugin.MeshPlugin, projector_plugin.ProjectorPlugin):
        plugin = cls(ctx)
        for route, app in plugin.get_plugin_apps().items():
            routes["/data/plugin/%s%s" % (plugin.plugin_name, route)] = app
    print("TensorBoard", version.VERSION, "(Python loader: EventMultiplexer and the plugins' data routes) on", logdir)

    def get(route, **params):
        path, _, query = route.partition("?")
        if params:
            query = urllib.parse.urlencode(params)
        resp = werkzeug.test.Client(routes[path]).get(path, query_string=query)
        if resp.status_code != 200:
            raise RuntimeError("%s?%s: HTTP %d: %s" % (path, query, resp.status_code, resp.get_data()[:200]))
        return resp.get_data()

    def get_json(route, **params):
        return json.loads(get(route, **params))

    run = exp["run"]
    runs = sorted(mux.Runs())
    check("runs", run in runs and all(r in runs for r in exp["scalars"]), str(runs))

    # PR curves.
    pr = get_json("/data/plugin/pr_curves/pr_curves", run=run, tag=exp["pr_tag"])[run]
    entry = pr[-1]
    # The plugin drops the tail of thresholds where TP + FP = 0.
    end = len(exp["pr"]["tp"])
    while end > 1 and exp["pr"]["tp"][end - 1] + exp["pr"]["fp"][end - 1] == 0:
        end -= 1
    ok = entry["step"] == exp["pr_step"]
    for key, col in (("true_positives", "tp"), ("false_positives", "fp"), ("true_negatives", "tn"),
                     ("false_negatives", "fn"), ("precision", "precision"), ("recall", "recall")):
        ok = ok and [float(x) for x in entry[key]] == [f32(x) for x in exp["pr"][col][:end]]
    mid = len(exp["pr"]["tp"]) // 2
    check("pr_curves", ok, "%d of %d thresholds served, at %s: precision %s recall %s" % (
        len(entry["precision"]), len(exp["pr"]["tp"]), entry["thresholds"][mid], entry["precision"][mid], entry["recall"][mid]))

    # Audio: the WAV bytes served are the ones written.
    audio = get_json("/data/plugin/audio/audio", run=run, tag=exp["audio_tag"])
    wav = get("/data/plugin/audio/individualAudio?" + audio[0]["query"])
    want = base64.b64decode(exp["audio_wav"])
    channels, rate = struct.unpack("<HI", wav[22:28])
    check("audio", wav == want and audio[0]["contentType"] == "audio/wav",
          "%d bytes, %d channels, %d Hz, content type %s" % (len(wav), channels, rate, audio[0]["contentType"]))

    # Video: the GIF is served by the Images tab.
    images = get_json("/data/plugin/images/images", run=run, tag=exp["video_tag"])
    gif = get("/data/plugin/images/individualImage?" + images[0]["query"])
    frames = gif.count(b"\x21\xf9\x04")  # one Graphic Control Extension per frame
    check("video", gif == base64.b64decode(exp["video_gif"]) and frames == exp["video_frames"],
          "%d bytes GIF, %d frames" % (len(gif), frames))

    # Graph: the run graph's nodes.
    graph = get("/data/plugin/graphs/graph", run=run, conceptual="false").decode()
    names = [line.split('"')[1] for line in graph.splitlines() if line.strip().startswith("name:")]
    check("graph", names == exp["graph_nodes"], "%d nodes" % len(names))

    # Custom scalars layout.
    layout = get_json("/data/plugin/custom_scalars/layout")
    cats = [c["title"] for c in layout.get("category", [])]
    margin = layout["category"][1]["chart"][0]["margin"]["series"][0]
    check("custom_scalars", cats == [c["Title"] for c in exp["layout"]["Categories"]] and margin["upper"] == "acc/hi"
          and layout["category"][1].get("closed") is True, "categories %s" % cats)

    # Mesh: metadata, then the three tensors as binary arrays.
    meta = get_json("/data/plugin/mesh/meshes", run=run, tag=exp["mesh_tag"])
    parts = {}
    for ct, fmt, key in (("VERTEX", "f", "vertices"), ("FACE", "i", "faces"), ("COLOR", "B", "colors")):
        raw = get("/data/plugin/mesh/data", run=run, tag=exp["mesh_tag"], content_type=ct, step=exp["mesh_step"], sample=0)
        n = len(raw) // struct.calcsize(fmt)
        parts[key] = list(struct.unpack("<%d%s" % (n, fmt), raw))
    want_mesh = {k: [x for row in exp[k] for x in row] for k in ("vertices", "faces", "colors")}
    check("mesh", parts == want_mesh and len(meta) == 3,
          "%d vertices, %d faces, %d colors; %d metadata entries" % (len(parts["vertices"]) // 3, len(parts["faces"]) // 3,
                                                                    len(parts["colors"]) // 3, len(meta)))

    # Projector: config, tensor (float32 bytes), metadata, sprite.
    info = get_json("/data/plugin/projector/info", run=run)
    emb = [e for e in info["embeddings"] if e["tensorName"] == exp["embedding_name"]]
    check("projector config", len(emb) == 1 and emb[0]["tensorShape"] == [20, 3], json.dumps(emb[0] if emb else info))
    raw = get("/data/plugin/projector/tensor", run=run, name=exp["embedding_name"])
    vals = list(struct.unpack("<%df" % (len(raw) // 4), raw))
    want_vals = [f32(x) for row in exp["embedding_vectors"] for x in row]
    check("projector tensor", vals == want_vals, "%d float32 values" % len(vals))
    md = get("/data/plugin/projector/metadata", run=run, name=exp["embedding_name"]).decode()
    check("projector metadata", md.splitlines() == exp["embedding_labels"], "%d labels" % len(md.splitlines()))
    sprite = get("/data/plugin/projector/sprite_image", run=run, name=exp["embedding_name"])
    with open(os.path.join(logdir, run, exp["embedding_sprite_path"]), "rb") as f:
        check("projector sprite", sprite == f.read() and sprite.startswith(b"\x89PNG"), "%d bytes PNG" % len(sprite))

    # AddScalars sub-runs and the explicit wall time.
    ok = True
    for sub, values in sorted(exp["scalars"].items()):
        pts = get_json("/data/plugin/scalars/scalars", run=sub, tag=exp["scalars_tag"])
        ok = ok and [p[2] for p in pts] == [f32(v) for v in values] and [p[1] for p in pts] == list(range(len(values)))
    check("scalars sub-runs", ok, ", ".join(sorted(exp["scalars"])))
    pts = get_json("/data/plugin/scalars/scalars", run=run, tag=exp["wall_tag"])
    check("wall time", pts[0][0] == exp["wall_time"], "served %r, written %r" % (pts[0][0], exp["wall_time"]))

    print("%d checks failed" % len(FAILED) if FAILED else "all checks passed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
