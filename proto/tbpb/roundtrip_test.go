package tbpb_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// sampleEvents returns one event per kind of payload tbtrain writes or meets
// in foreign files, with every summary value case populated.
func sampleEvents(t *testing.T) []*tbpb.Event {
	t.Helper()
	lr, err := structpb.NewValue(0.01)
	if err != nil {
		t.Fatal(err)
	}
	hp, err := proto.Marshal(&tbpb.HParamsPluginData{
		Data: &tbpb.HParamsPluginData_SessionStartInfo{SessionStartInfo: &tbpb.SessionStartInfo{
			Hparams:       map[string]*structpb.Value{"lr": lr, "opt": structpb.NewStringValue("sgd")},
			StartTimeSecs: 1.5,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return []*tbpb.Event{
		{WallTime: 1, What: &tbpb.Event_FileVersion{FileVersion: "brain.Event:2"},
			SourceMetadata: &tbpb.SourceMetadata{Writer: "tbtrain"}},
		{WallTime: 2, Step: 7, What: &tbpb.Event_SessionLog{SessionLog: &tbpb.SessionLog{Status: tbpb.SessionLog_START}}},
		{WallTime: 3, Step: 8, What: &tbpb.Event_Summary{Summary: &tbpb.Summary{Value: []*tbpb.Summary_Value{
			{Tag: "loss", Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: float32(math.Inf(1))}},
			{Tag: "acc", Metadata: &tbpb.SummaryMetadata{
				PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: "scalars"},
				DataClass:  tbpb.DataClass_DATA_CLASS_SCALAR,
			}, Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
				Dtype: tbpb.DataType_DT_FLOAT, TensorShape: &tbpb.TensorShapeProto{}, FloatVal: []float32{0.5},
			}}},
			{Tag: "w", Value: &tbpb.Summary_Value_Histo{Histo: &tbpb.HistogramProto{
				Min: -1, Max: 1, Num: 3, Sum: 0, SumSquares: 2, BucketLimit: []float64{-1, 0, 1}, Bucket: []float64{1, 1, 1},
			}}},
			{Tag: "img", Value: &tbpb.Summary_Value_Image{Image: &tbpb.Summary_Image{
				Height: 2, Width: 3, Colorspace: 1, EncodedImageString: []byte("\x89PNG"),
			}}},
			{Tag: "snd", Value: &tbpb.Summary_Value_Audio{Audio: &tbpb.Summary_Audio{
				SampleRate: 8000, NumChannels: 1, LengthFrames: 4, EncodedAudioString: []byte("RIFF"), ContentType: "audio/wav",
			}}},
			{Tag: "old", Value: &tbpb.Summary_Value_ObsoleteOldStyleHistogram{ObsoleteOldStyleHistogram: []byte{1, 2}}},
			{Tag: "text", Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
				Dtype: tbpb.DataType_DT_STRING, TensorShape: &tbpb.TensorShapeProto{Dim: []*tbpb.TensorShapeProto_Dim{{Size: 1}}},
				StringVal: [][]byte{[]byte("**hi**")},
			}}},
			{Tag: "_hparams_/session_start_info", Metadata: &tbpb.SummaryMetadata{
				PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: "hparams", Content: hp},
			}},
		}}}},
		{Step: 9, What: &tbpb.Event_GraphDef{GraphDef: []byte{0}}},
		{Step: 10, What: &tbpb.Event_MetaGraphDef{MetaGraphDef: []byte{1}}},
		{Step: 11, What: &tbpb.Event_TaggedRunMetadata{TaggedRunMetadata: &tbpb.TaggedRunMetadata{Tag: "rm", RunMetadata: []byte{2}}}},
	}
}

// TestRoundTrip marshals and unmarshals every sample event and checks that
// nothing is lost and nothing lands in unknown fields.
func TestRoundTrip(t *testing.T) {
	for i, want := range sampleEvents(t) {
		b, err := proto.Marshal(want)
		if err != nil {
			t.Fatalf("event %d: marshal: %v", i, err)
		}
		got := new(tbpb.Event)
		if err := proto.Unmarshal(b, got); err != nil {
			t.Fatalf("event %d: unmarshal: %v", i, err)
		}
		if !proto.Equal(got, want) {
			t.Errorf("event %d: round trip differs (-got +want):\n%s", i, cmp.Diff(got, want, protocmp.Transform()))
		}
		if n := countUnknown(got.ProtoReflect()); n != 0 {
			t.Errorf("event %d: %d unknown field bytes after round trip", i, n)
		}
	}
}

// TestWireNumbers hand-encodes fields with the numbers of TensorBoard's
// schemas (tensorflow/tensorboard tensorboard/compat/proto/event.proto,
// summary.proto, tensor.proto; plugins/hparams/plugin_data.proto) and checks
// that they decode into the intended Go fields.
func TestWireNumbers(t *testing.T) {
	var b []byte
	// Event.wall_time = 1 (double), Event.step = 2 (int64).
	b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(12.5))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, 42)
	// Event.summary = 5 holding Summary.value = 1 holding
	// Value.tag = 1, Value.simple_value = 2 (float).
	var v []byte
	v = protowire.AppendTag(v, 1, protowire.BytesType)
	v = protowire.AppendString(v, "loss")
	v = protowire.AppendTag(v, 2, protowire.Fixed32Type)
	v = protowire.AppendFixed32(v, math.Float32bits(0.25))
	var s []byte
	s = protowire.AppendTag(s, 1, protowire.BytesType)
	s = protowire.AppendBytes(s, v)
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	b = protowire.AppendBytes(b, s)

	got := new(tbpb.Event)
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	want := &tbpb.Event{WallTime: 12.5, Step: 42, What: &tbpb.Event_Summary{Summary: &tbpb.Summary{
		Value: []*tbpb.Summary_Value{{Tag: "loss", Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: 0.25}}},
	}}}
	if !proto.Equal(got, want) {
		t.Errorf("hand-encoded event (-got +want):\n%s", cmp.Diff(got, want, protocmp.Transform()))
	}

	// Event.session_log = 7 holding SessionLog.status = 1 (START = 1).
	var sl []byte
	sl = protowire.AppendTag(sl, 1, protowire.VarintType)
	sl = protowire.AppendVarint(sl, 1)
	b = protowire.AppendTag(nil, 7, protowire.BytesType)
	b = protowire.AppendBytes(b, sl)
	got = new(tbpb.Event)
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	if st := got.GetSessionLog().GetStatus(); st != tbpb.SessionLog_START {
		t.Errorf("session_log status = %v, want START", st)
	}

	// HParamsPluginData.session_end_info = 4 holding SessionEndInfo.status = 1
	// (STATUS_SUCCESS = 1).
	var se []byte
	se = protowire.AppendTag(se, 1, protowire.VarintType)
	se = protowire.AppendVarint(se, 1)
	b = protowire.AppendTag(nil, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, se)
	hp := new(tbpb.HParamsPluginData)
	if err := proto.Unmarshal(b, hp); err != nil {
		t.Fatal(err)
	}
	if st := hp.GetSessionEndInfo().GetStatus(); st != tbpb.Status_STATUS_SUCCESS {
		t.Errorf("session_end_info status = %v, want STATUS_SUCCESS", st)
	}
}
