"""view.py writes tensorboard-view.json: what TensorBoard's Python loader serves here.

    eval "$(tools/tensorboard-env.sh TENSORBOARD_SOURCE)"
    /usr/bin/python3 testdata/tensorboard-reads/view.py testdata/tensorboard-reads

It builds TensorBoard's own WSGI app over the folder (LocalDataIngester, the
--load_fast=false loader, with TensorBoard's default flags: purging on,
default sampling) and records what its HTTP routes answer, as a browser
would ask:

  runs           /data/runs
  tags[plugin]   /data/plugin/<plugin>/tags, and per tag the number of
                 points the data route returns (scalars, histograms,
                 images, text) or, when it fails, "HTTP <status>" (an
                 exception escaping the route is what a served TensorBoard
                 answers with HTTP 500: "HTTP 500 (<exception type>)")
  hparams        per run and hparams tag, the plugin content the hparams
                 plugin reads (data provider list_tensors), decoded:
                 the session start's hparams or the session end's status,
                 and the tag's max_step

Nothing here is written by TensorBoard's code except through its routes.
"""
import argparse
import json
import os
import sys
import urllib.parse

from werkzeug.test import Client

from tensorboard import context as tb_context
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_ingester
from tensorboard.plugins.core import core_plugin
from tensorboard.plugins.histogram import histograms_plugin
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.image import images_plugin
from tensorboard.plugins.scalar import scalars_plugin
from tensorboard.plugins.text import text_plugin

logdir = sys.argv[1]
loader = core_plugin.CorePluginLoader(include_debug_info=False)
parser = argparse.ArgumentParser()
loader.define_flags(parser)
flags = parser.parse_args(["--logdir", logdir, "--load_fast=false", "--reload_interval=0", "--reload_task=blocking"])
loader.fix_flags(flags)
ing = data_ingester.LocalDataIngester(flags)
ing.start()  # reload_task=blocking, reload_interval=0: loads everything once, now
plugins = [loader, scalars_plugin.ScalarsPlugin, histograms_plugin.HistogramsPlugin,
           images_plugin.ImagesPlugin, text_plugin.TextPlugin]
app = application.TensorBoardWSGIApp(flags, plugins, ing.data_provider, None, ing.deprecated_multiplexer)
client = Client(app)


def get(path, **query):
    if query:
        path += "?" + urllib.parse.urlencode(query)
    try:
        r = client.get(path)
    except Exception as e:  # a real server answers HTTP 500 here
        return None, "HTTP 500 (%s)" % type(e).__name__
    if r.status_code != 200:
        return None, "HTTP %d" % r.status_code
    return json.loads(r.get_data(as_text=True)), None


view = {"runs": get("/data/runs")[0], "tags": {}, "hparams": {}}
routes = {
    "scalars": lambda run, tag: get("/data/plugin/scalars/scalars", run=run, tag=tag),
    "histograms": lambda run, tag: get("/data/plugin/histograms/histograms", run=run, tag=tag),
    "images": lambda run, tag: get("/data/plugin/images/images", run=run, tag=tag, sample=0),
    "text": lambda run, tag: get("/data/plugin/text/text", run=run, tag=tag),
}
for plugin, route in routes.items():
    tags, _ = get("/data/plugin/%s/tags" % plugin)
    if plugin == "images":
        tags = {run: {tag: None for tag in t} for run, t in tags.items()}
    for run in sorted(tags):
        for tag in sorted(tags[run]):
            data, err = route(run, tag)
            entry = view["tags"].setdefault(run, {}).setdefault(tag, {})
            entry[plugin] = err if err else len(data)

series = ing.data_provider.list_tensors(tb_context.RequestContext(), experiment_id="", plugin_name=hparams_metadata.PLUGIN_NAME)
for run in sorted(series):
    for tag in sorted(series[run]):
        ts = series[run][tag]
        data = plugin_data_pb2.HParamsPluginData.FromString(ts.plugin_content)
        entry = {"max_step": ts.max_step}
        which = data.WhichOneof("data")
        if which == "session_start_info":
            entry["hparams"] = {k: v.number_value for k, v in sorted(data.session_start_info.hparams.items())}
        elif which == "session_end_info":
            entry["status"] = api_pb2.Status.Name(data.session_end_info.status)
        else:
            entry["data"] = which
        view["hparams"].setdefault(run, {})[tag] = entry

with open(os.path.join(logdir, "tensorboard-view.json"), "w") as f:
    json.dump(view, f, indent=1, sort_keys=True)
    f.write("\n")
