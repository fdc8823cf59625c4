package main

import (
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// What TensorBoard 2.22 displays of a tag by default is bounded twice: the
// loader keeps a reservoir sample of each tag (always including its last
// point), and the dashboard asks the data provider for at most a number of
// points per tag (again keeping the last). Both bounds come from TensorBoard's
// source:
//
// Python loader (--load_fast=false), reservoir per tag by the tag's plugin:
// backend/event_processing/data_ingester.py DEFAULT_TENSOR_SIZE_GUIDANCE
// (scalars 1000, images 10, audio 10, histograms 500, pr_curves 100) and
// DEFAULT_SIZE_GUIDANCE (10 for every other plugin: text, hparams, mesh, …).
//
// Rust data server (the default loader), reservoir per tag by data class:
// data/server/run.rs StageTimeSeries::capacity (scalar 1000, tensor 100,
// blob sequence 10, and 0, nothing kept, for a tag without a data class);
// Python starts it with no --samples-per-plugin hints (data/server_ingester.py).
//
// Dashboards, points requested per tag: scalars 1000
// (plugins/scalar/scalars_plugin.py _DEFAULT_DOWNSAMPLING), histograms 51
// (plugins/histogram/histograms_plugin.py SAMPLE_SIZE, and the time series
// dashboard's default in plugins/metrics/metrics_plugin.py), images 10
// (image/images_plugin.py), audio 10 (audio/audio_plugin.py), text 100
// (text/text_plugin.py), pr_curves 100 (pr_curve/pr_curves_plugin.py), mesh
// 100 (mesh/mesh_plugin.py). The hparams plugin reads only the plugin
// content of a tag's first value, which tbwriter.Run.Series already
// reduces to one point. `tensorboard --samples_per_plugin` changes both
// bounds.
const (
	pythonDefaultReservoir = 10 // DEFAULT_SIZE_GUIDANCE[TENSORS]
	unlimited              = int(^uint(0) >> 1)
)

var pythonReservoir = map[string]int{
	"scalars":    1000,
	"images":     10,
	"audio":      10,
	"histograms": 500,
	"pr_curves":  100,
}

var dashboardRequest = map[string]int{
	"scalars":    1000,
	"histograms": 51,
	"images":     10,
	"audio":      10,
	"text":       100,
	"pr_curves":  100,
	"mesh":       100,
	"hparams":    1,
}

// shownLimit returns how many points of a tag rule's loader and the
// tag's dashboard display by default: the smaller of the two bounds above.
// plugin and dataClass describe the tag's first metadata (dataClass may be
// unknown), first its first value.
func shownLimit(rule tbwriter.PurgeRule, plugin string, dataClass tbpb.DataClass, first *tbpb.Summary_Value) int {
	limit := unlimited
	if n, ok := dashboardRequest[plugin]; ok {
		limit = n
	}
	switch rule {
	case tbwriter.PythonPurge:
		n, ok := pythonReservoir[plugin]
		if !ok {
			n = pythonDefaultReservoir
		}
		limit = min(limit, n)
	case tbwriter.RustPurge:
		switch rustDataClass(plugin, dataClass, first) {
		case tbpb.DataClass_DATA_CLASS_SCALAR:
			limit = min(limit, 1000)
		case tbpb.DataClass_DATA_CLASS_TENSOR:
			limit = min(limit, 100)
		case tbpb.DataClass_DATA_CLASS_BLOB_SEQUENCE:
			limit = min(limit, 10)
		default:
			limit = 0
		}
	}
	return limit
}

// rustDataClass is the data class the Rust data server gives a tag
// (data/server/data_compat.rs SummaryValue::initial_metadata): the first
// metadata's own data class if set; else by the first value's legacy kind;
// else by plugin name.
func rustDataClass(plugin string, dataClass tbpb.DataClass, first *tbpb.Summary_Value) tbpb.DataClass {
	if dataClass != tbpb.DataClass_DATA_CLASS_UNKNOWN {
		return dataClass
	}
	switch first.GetValue().(type) {
	case *tbpb.Summary_Value_SimpleValue:
		return tbpb.DataClass_DATA_CLASS_SCALAR
	case *tbpb.Summary_Value_Image, *tbpb.Summary_Value_Audio:
		return tbpb.DataClass_DATA_CLASS_BLOB_SEQUENCE
	case *tbpb.Summary_Value_Histo:
		return tbpb.DataClass_DATA_CLASS_TENSOR
	}
	switch plugin {
	case "scalars":
		return tbpb.DataClass_DATA_CLASS_SCALAR
	case "histograms", "text", "hparams", "pr_curves", "mesh", "custom_scalars":
		return tbpb.DataClass_DATA_CLASS_TENSOR
	case "images", "audio", "graph_run_metadata", "graph_run_metadata_graph", "graph_keras_model":
		return tbpb.DataClass_DATA_CLASS_BLOB_SEQUENCE
	}
	return tbpb.DataClass_DATA_CLASS_UNKNOWN
}
