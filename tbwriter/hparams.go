package tbwriter

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// HParams plugin facts, from tensorboard/plugins/hparams/metadata.py:
// PLUGIN_NAME = "hparams", PLUGIN_DATA_VERSION = 0, and the three tags
// below. The values carry only metadata (an HParamsPluginData in
// plugin_data.content), as TensorBoard's hparams summary.py and PyTorch
// write them; the Python loader gives them a null tensor on load
// (dataclass_compat._migrate_hparams_value).
const (
	hparamsPluginName        = "hparams"
	hparamsPluginDataVersion = 0

	// HParamsExperimentTag, HParamsSessionStartTag and HParamsSessionEndTag
	// are the tags the hparams plugin reads.
	HParamsExperimentTag   = "_hparams_/experiment"
	HParamsSessionStartTag = "_hparams_/session_start_info"
	HParamsSessionEndTag   = "_hparams_/session_end_info"
)

// HParams describes one training session for TensorBoard's HParams tab.
type HParams struct {
	// Values maps hyperparameter names to values. A value is a string, a
	// bool or any Go integer or floating-point number (stored as float64).
	Values map[string]any
	// Metrics are the scalar tags (logged with AddScalar) shown as metric
	// columns.
	Metrics []string
	// GroupName groups sessions in the HParams tab; "" is allowed.
	GroupName string
}

// hparamsValue wraps plugin data in a summary value.
func hparamsValue(tag string, data *tbpb.HParamsPluginData) *tbpb.Summary_Value {
	content, err := deterministic.Marshal(data)
	if err != nil {
		// Only possible for invalid UTF-8 in strings, which
		// HParamsValues rejects first: a programmer error here.
		panic("tbwriter: marshal hparams plugin data: " + err.Error())
	}
	return &tbpb.Summary_Value{
		Tag: tag,
		Metadata: &tbpb.SummaryMetadata{PluginData: &tbpb.SummaryMetadata_PluginData{
			PluginName: hparamsPluginName,
			Content:    content,
		}},
	}
}

// HParamsValues returns the experiment and session start values for hp,
// stamped with time t.
func HParamsValues(hp HParams, t time.Time) ([]*tbpb.Summary_Value, error) {
	names := make([]string, 0, len(hp.Values))
	for k := range hp.Values {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("tbwriter: hparam name %q is not valid UTF-8", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	if !utf8.ValidString(hp.GroupName) {
		return nil, fmt.Errorf("tbwriter: hparams group name %q is not valid UTF-8", hp.GroupName)
	}
	exp := &tbpb.Experiment{TimeCreatedSecs: wallSeconds(t)}
	start := &tbpb.SessionStartInfo{
		Hparams:       make(map[string]*structpb.Value, len(names)),
		GroupName:     hp.GroupName,
		StartTimeSecs: wallSeconds(t),
	}
	for _, name := range names {
		v, typ, err := hparamValue(hp.Values[name])
		if err != nil {
			return nil, fmt.Errorf("tbwriter: hparam %q: %w", name, err)
		}
		exp.HparamInfos = append(exp.HparamInfos, &tbpb.HParamInfo{Name: name, Type: typ})
		start.Hparams[name] = v
	}
	for _, m := range hp.Metrics {
		if !utf8.ValidString(m) {
			return nil, fmt.Errorf("tbwriter: hparams metric tag %q is not valid UTF-8", m)
		}
		exp.MetricInfos = append(exp.MetricInfos, &tbpb.MetricInfo{Name: &tbpb.MetricName{Tag: m}})
	}
	return []*tbpb.Summary_Value{
		hparamsValue(HParamsExperimentTag, &tbpb.HParamsPluginData{
			Version: hparamsPluginDataVersion,
			Data:    &tbpb.HParamsPluginData_Experiment{Experiment: exp},
		}),
		hparamsValue(HParamsSessionStartTag, &tbpb.HParamsPluginData{
			Version: hparamsPluginDataVersion,
			Data:    &tbpb.HParamsPluginData_SessionStartInfo{SessionStartInfo: start},
		}),
	}, nil
}

func hparamValue(x any) (*structpb.Value, tbpb.HParamDataType, error) {
	// By kind rather than by type, so that named types (type LR float64,
	// time.Duration) are accepted like their underlying kinds.
	var f float64
	switch v := reflect.ValueOf(x); v.Kind() {
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) {
			return nil, 0, fmt.Errorf("value %q is not valid UTF-8", s)
		}
		return structpb.NewStringValue(s), tbpb.HParamDataType_DATA_TYPE_STRING, nil
	case reflect.Bool:
		return structpb.NewBoolValue(v.Bool()), tbpb.HParamDataType_DATA_TYPE_BOOL, nil
	case reflect.Float32, reflect.Float64:
		f = v.Float()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f = float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f = float64(v.Uint())
	default:
		return nil, 0, fmt.Errorf("unsupported type %T (want string, bool or a number)", x)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, 0, fmt.Errorf("value %v is not finite", f)
	}
	return structpb.NewNumberValue(f), tbpb.HParamDataType_DATA_TYPE_FLOAT64, nil
}

// HParamsSessionEndValue returns the session end value (tag
// HParamsSessionEndTag) with the given status and end time, for callers
// that write it themselves at a step of their choice instead of letting
// Close write it at step 0 (see AddHParams).
func HParamsSessionEndValue(status tbpb.Status, t time.Time) *tbpb.Summary_Value {
	return hparamsValue(HParamsSessionEndTag, &tbpb.HParamsPluginData{
		Version: hparamsPluginDataVersion,
		Data: &tbpb.HParamsPluginData_SessionEndInfo{SessionEndInfo: &tbpb.SessionEndInfo{
			Status:      status,
			EndTimeSecs: wallSeconds(t),
		}},
	})
}

// AddHParams writes the experiment (hyperparameter names and types, metric
// tags) and the session start (the values) into this run at step 0. Unlike
// PyTorch's add_hparams it does not create a sub-run. Close then writes the
// session end, also at step 0, with the status of SetSessionStatus (default
// SUCCESS), unless a session end was already queued with AddSummary.
//
// TensorBoard shows the FIRST value ever loaded for each hparams tag of a
// run and ignores every later one, even after a restart purges the first
// (both loaders keep a tag's first metadata, where hparams live; see
// [Run.Series]). So a second call on one Writer returns ErrHParamsRepeated
// and writes nothing, and a run should call it once, in its first session.
// A run that may be resumed should instead write HParamsValues at step 0
// with AddSummary and HParamsSessionEndValue only once the run is finished:
// otherwise the first session's Close records, for good, the end of a run
// that is still going.
func (w *Writer) AddHParams(hp HParams) error {
	t, err := w.stampTime()
	if err != nil {
		return err
	}
	values, err := HParamsValues(hp, t)
	if err != nil {
		return err
	}
	if err := w.AddSummary(0, values...); err != nil {
		return err
	}
	w.hparamsMu.Lock()
	w.hparamsSet = true
	w.hparamsMu.Unlock()
	return nil
}

// HParamsOf decodes the hparams plugin data of a summary value.
func HParamsOf(v *tbpb.Summary_Value) (*tbpb.HParamsPluginData, bool) {
	pd := v.GetMetadata().GetPluginData()
	if pd.GetPluginName() != hparamsPluginName {
		return nil, false
	}
	var data tbpb.HParamsPluginData
	if err := proto.Unmarshal(pd.GetContent(), &data); err != nil {
		return nil, false
	}
	return &data, true
}
