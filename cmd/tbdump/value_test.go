package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

func TestDescribeValue(t *testing.T) {
	f32 := func(f float32) []byte { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(f)) }
	hpStart, err := proto.Marshal(&tbpb.HParamsPluginData{Data: &tbpb.HParamsPluginData_SessionStartInfo{
		SessionStartInfo: &tbpb.SessionStartInfo{Hparams: map[string]*structpb.Value{
			"opt": structpb.NewStringValue("sgd"), "lr": structpb.NewNumberValue(0.01), "nesterov": structpb.NewBoolValue(true),
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", maxText+5)
	cases := []struct {
		name   string
		v      *tbpb.Summary_Value
		plugin string
		want   string
	}{
		{"simple", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: 0.1}}, "scalars", "0.1"},
		{"simple nan", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: float32(math.NaN())}}, "scalars", "NaN"},
		{"simple -inf", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: float32(math.Inf(-1))}}, "scalars", "-Inf"},
		{"float tensor val", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_FLOAT, FloatVal: []float32{1.5}}}}, "scalars", "1.5"},
		{"float tensor content", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_FLOAT, TensorContent: f32(-2.25)}}}, "scalars", "-2.25"},
		{"double tensor", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_DOUBLE, DoubleVal: []float64{0.1}}}}, "scalars", "0.1 (DT_DOUBLE)"},
		{"string tensor", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_STRING, StringVal: [][]byte{[]byte("a\nb")}}}}, "text", `"a\nb"`},
		{"long string", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_STRING, StringVal: [][]byte{[]byte(long)}}}}, "text", `"` + strings.Repeat("é", maxText) + `"…`},
		{"matrix", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype: tbpb.DataType_DT_DOUBLE, TensorShape: &tbpb.TensorShapeProto{Dim: []*tbpb.TensorShapeProto_Dim{{Size: 30}, {Size: 3}}}}}},
			"histograms", "DT_DOUBLE [30 3]"},
		{"histo", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Histo{Histo: &tbpb.HistogramProto{
			Num: 3, Min: -1.23456789, Max: 2, Bucket: []float64{1, 2}}}}, "histograms", "n=3 min=-1.23457 max=2 buckets=2"},
		{"png", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Image{Image: &tbpb.Summary_Image{
			Width: 28, Height: 14, Colorspace: 1, EncodedImageString: []byte("\x89PNG\r\n\x1a\nrest")}}}, "images", "28x14 colorspace=1 png 12B"},
		{"jpeg", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Image{Image: &tbpb.Summary_Image{
			Width: 1, Height: 1, Colorspace: 3, EncodedImageString: []byte{0xff, 0xd8, 0xff, 0xe0}}}}, "images", "1x1 colorspace=3 jpeg 4B"},
		{"audio", &tbpb.Summary_Value{Value: &tbpb.Summary_Value_Audio{Audio: &tbpb.Summary_Audio{
			SampleRate: 44100, NumChannels: 2, LengthFrames: 10, ContentType: "audio/wav", EncodedAudioString: []byte("RIFF")}}},
			"audio", `44100Hz channels=2 frames=10 seconds=0.000226757 "audio/wav" 4B`},
		{"hparams start", &tbpb.Summary_Value{Metadata: &tbpb.SummaryMetadata{PluginData: &tbpb.SummaryMetadata_PluginData{
			PluginName: "hparams", Content: hpStart}}}, "hparams", `session start: lr=0.01 nesterov=true opt="sgd"`},
		{"hparams garbage", &tbpb.Summary_Value{Metadata: &tbpb.SummaryMetadata{PluginData: &tbpb.SummaryMetadata_PluginData{
			PluginName: "hparams", Content: []byte{0xff}}}}, "hparams", "undecodable hparams content: "},
		{"nothing", &tbpb.Summary_Value{Tag: "x"}, "", "(no value)"},
	}
	for _, tc := range cases {
		got := describeValue(tc.v, tc.plugin)
		if tc.name == "hparams garbage" {
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s: got %q, want prefix %q", tc.name, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzRenderEvent decodes arbitrary bytes as an Event and renders it in every
// output mode: rendering must not panic, JSON must be valid, and two
// renderings must be identical.
func FuzzRenderEvent(f *testing.F) {
	seed := []*tbpb.Event{
		{Step: 1, What: &tbpb.Event_FileVersion{FileVersion: "brain.Event:2"}},
		{Step: 2, WallTime: math.NaN(), What: &tbpb.Event_Summary{Summary: &tbpb.Summary{Value: []*tbpb.Summary_Value{
			{Tag: "a", Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: float32(math.Inf(1))}},
			{Tag: "t", Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{Dtype: tbpb.DataType_DT_FLOAT, TensorContent: []byte{1, 2, 3, 4}}}},
			{Tag: "h", Metadata: &tbpb.SummaryMetadata{PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: "hparams", Content: []byte{0x12, 0}}}},
		}}}},
		{Step: 3, What: &tbpb.Event_SessionLog{SessionLog: &tbpb.SessionLog{Status: tbpb.SessionLog_START, Msg: "x"}}},
	}
	for _, e := range seed {
		b, err := proto.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev := new(tbpb.Event)
		if proto.Unmarshal(b, ev) != nil {
			return
		}
		render := func() (string, string) {
			fd := &fileDump{Path: "f", Name: "f", Events: []*tbpb.Event{ev}, Offsets: []int64{0}}
			rd := &runDump{Name: "r", Files: []*fileDump{fd}, events: fd.Events, series: map[string][]point{}}
			for _, v := range ev.GetSummary().GetValue() {
				rd.series[v.GetTag()] = append(rd.series[v.GetTag()], point{Step: ev.GetStep(), WallTime: ev.GetWallTime(), Value: v})
			}
			ins := []*input{{Path: "in", Runs: []*runDump{rd}}}
			var all bytes.Buffer
			for _, events := range []bool{false, true} {
				o := &options{purge: "none", events: events}
				if err := writeText(&all, ins, o); err != nil {
					t.Fatal(err)
				}
			}
			var js bytes.Buffer
			for _, events := range []bool{false, true} {
				o := &options{purge: "none", events: events, json: true}
				var one bytes.Buffer
				if err := writeJSON(&one, ins, o); err != nil {
					t.Fatalf("writeJSON: %v", err)
				}
				if !json.Valid(one.Bytes()) {
					t.Fatalf("invalid JSON:\n%s", one.Bytes())
				}
				js.Write(one.Bytes())
			}
			return all.String(), js.String()
		}
		t1, j1 := render()
		t2, j2 := render()
		if t1 != t2 || j1 != j2 {
			t.Fatal("rendering is not deterministic")
		}
	})
}

// TestOtherEventsLine checks that events other than summaries and session
// logs are counted per kind in the run overview.
func TestOtherEventsLine(t *testing.T) {
	evs := []*tbpb.Event{
		{What: &tbpb.Event_FileVersion{FileVersion: "brain.Event:2"}},
		{Step: 1, What: &tbpb.Event_GraphDef{GraphDef: []byte{1}}},
		{Step: 2, What: &tbpb.Event_TaggedRunMetadata{TaggedRunMetadata: &tbpb.TaggedRunMetadata{Tag: "rm"}}},
		{Step: 3, What: &tbpb.Event_GraphDef{GraphDef: []byte{2, 3}}},
		{Step: 4},
	}
	fd := &fileDump{Path: "f", Name: "f", Events: evs}
	ins := []*input{{Path: "in", Runs: []*runDump{{Name: "r", Files: []*fileDump{fd}, events: evs, series: map[string][]point{}}}}}
	var b bytes.Buffer
	if err := writeText(&b, ins, &options{purge: "none"}); err != nil {
		t.Fatal(err)
	}
	if want := "  other events: empty 1, graph_def 2, tagged_run_metadata 1\n"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
}
