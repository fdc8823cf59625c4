package tbwriter

import (
	"errors"
	"image"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// tagsWritten reads w's file after Close and returns every summary tag in
// it, in order, with its plugin.
func tagsWritten(t *testing.T, path string) []string {
	t.Helper()
	events, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		for _, v := range e.GetSummary().GetValue() {
			out = append(out, v.GetTag()+":"+PluginName(v))
		}
	}
	return out
}

// TestTagKindChange: a tag keeps the kind (plugin) of its first value on a
// Writer. TensorBoard keeps a tag's first metadata, so an image under a
// scalar tag makes the scalars route fail for the whole tag. The refused
// call returns a *KindError and writes nothing.
func TestTagKindChange(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	add := map[string]func(w *Writer, tag string) error{
		"scalar":    func(w *Writer, tag string) error { return w.AddScalar(tag, 1, 1) },
		"histogram": func(w *Writer, tag string) error { return w.AddHistogram(tag, 1, []float32{1, 2}) },
		"image":     func(w *Writer, tag string) error { return w.AddImage(tag, 1, img) },
		"text":      func(w *Writer, tag string) error { return w.AddText(tag, 1, "hi") },
		"tensor": func(w *Writer, tag string) error {
			return w.AddSummary(1, &tbpb.Summary_Value{Tag: tag, Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{Dtype: tbpb.DataType_DT_INT32, IntVal: []int32{1}}}})
		},
		"plugin": func(w *Writer, tag string) error {
			return w.AddSummary(1, &tbpb.Summary_Value{Tag: tag, Metadata: &tbpb.SummaryMetadata{PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: "pr_curves"}},
				Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{Dtype: tbpb.DataType_DT_FLOAT, FloatVal: []float32{1}}}})
		},
	}
	for first, addFirst := range add {
		for second, addSecond := range add {
			t.Run(first+"_then_"+second, func(t *testing.T) {
				w, err := Create(t.TempDir(), Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := addFirst(w, "mix"); err != nil {
					t.Fatal(err)
				}
				err = addSecond(w, "mix")
				if first == second {
					if err != nil {
						t.Fatalf("second %s under the same tag: %v", second, err)
					}
					w.Close()
					return
				}
				var ke *KindError
				if !errors.As(err, &ke) || !errors.Is(err, ErrTagKind) || ke.Tag != "mix" {
					t.Fatalf("%s after %s = %v, want a *KindError for tag mix", second, first, err)
				}
				// Other tags are unaffected.
				if err := addSecond(w, "other"); err != nil {
					t.Fatalf("%s under a new tag: %v", second, err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				got := tagsWritten(t, w.Path())
				if len(got) != 2 || !strings.HasPrefix(got[0], "mix:") || !strings.HasPrefix(got[1], "other:") {
					t.Errorf("file holds %q, want the first mix value and other", got)
				}
			})
		}
	}
}

// TestTagKindSameKindForms: both forms of one kind share a tag (a scalar as
// simple_value and as a scalars-plugin tensor; a histogram from values and
// from buckets).
func TestTagKindSameKindForms(t *testing.T) {
	w, err := NewWriter(io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, err := range []error{
		w.AddScalar("loss", 0, 1), w.AddScalarTensor("loss", 1, 2), w.AddScalar("loss", 2, 3),
		w.AddHistogram("h", 0, []float32{1}), w.AddHistogramBuckets("h", 1, []Bucket{{0, 1, 1}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTagKindOneEvent: an event whose values disagree with each other is
// refused as a whole, and records no tag.
func TestTagKindOneEvent(t *testing.T) {
	w, err := NewWriter(io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = w.AddSummary(1, ScalarValue("a", 1), ScalarValue("b", 1), TextValue("b", "x"))
	if !errors.Is(err, ErrTagKind) {
		t.Fatalf("AddSummary with b as scalar and text = %v, want ErrTagKind", err)
	}
	// Nothing was recorded: a and b are free for any kind.
	if err := w.AddText("a", 1, "x"); err != nil {
		t.Errorf("a after the refused event: %v", err)
	}
	if err := w.AddText("b", 1, "x"); err != nil {
		t.Errorf("b after the refused event: %v", err)
	}
}

// TestAddHParamsTwice: TensorBoard shows only the first value of each
// hparams tag of a run, so a second AddHParams on one Writer (which
// TensorBoard would ignore) is an error and writes nothing; Close still
// writes exactly one session end.
func TestAddHParamsTwice(t *testing.T) {
	w, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddHParams(HParams{Values: map[string]any{"lr": 0.1}}); err != nil {
		t.Fatal(err)
	}
	err = w.AddHParams(HParams{Values: map[string]any{"lr": 0.2}})
	if !errors.Is(err, ErrHParamsRepeated) {
		t.Fatalf("second AddHParams = %v, want ErrHParamsRepeated", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{HParamsExperimentTag + ":hparams", HParamsSessionStartTag + ":hparams", HParamsSessionEndTag + ":hparams"}
	if got := tagsWritten(t, w.Path()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("file holds %q, want %q", got, want)
	}
	run := &Run{Files: []string{w.Path()}}
	run.load()
	start, _ := HParamsOf(run.Series(NoPurge)[HParamsSessionStartTag][0].Value)
	if lr := start.GetSessionStartInfo().GetHparams()["lr"].GetNumberValue(); lr != 0.1 {
		t.Errorf("session start lr = %v, want the first call's 0.1", lr)
	}
}

// TestHParamsSessionEndOnce: a session end queued by the caller is the one
// TensorBoard shows, so Close does not add a second; a second session end
// from the caller is refused.
func TestHParamsSessionEndOnce(t *testing.T) {
	w, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddHParams(HParams{Values: map[string]any{"lr": 0.1}}); err != nil {
		t.Fatal(err)
	}
	end := HParamsSessionEndValue(tbpb.Status_STATUS_FAILURE, time.Unix(5, 0))
	if err := w.AddSummary(7, end); err != nil {
		t.Fatal(err)
	}
	if err := w.AddSummary(8, HParamsSessionEndValue(tbpb.Status_STATUS_SUCCESS, time.Unix(6, 0))); !errors.Is(err, ErrHParamsRepeated) {
		t.Fatalf("second session end = %v, want ErrHParamsRepeated", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	var ends []*tbpb.Event
	for _, e := range events {
		if v := e.GetSummary().GetValue(); len(v) == 1 && v[0].Tag == HParamsSessionEndTag {
			ends = append(ends, e)
		}
	}
	if len(ends) != 1 || ends[0].Step != 7 {
		t.Fatalf("session ends %v, want the caller's one at step 7", ends)
	}
}

// TestAddTextInvalidUTF8: TensorBoard's text plugin decodes every string of
// a tag as UTF-8 and fails the whole tag on one bad string, so invalid text
// is refused, through AddText and through AddSummary alike.
func TestAddTextInvalidUTF8(t *testing.T) {
	w, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddText("notes", 1, "ok"); err != nil {
		t.Fatal(err)
	}
	bad := "caf\xe9" // Latin-1, not UTF-8
	if err := w.AddText("notes", 2, bad); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("AddText(invalid UTF-8) = %v, want an error about UTF-8", err)
	}
	if err := w.AddSummary(3, TextValue("notes", bad)); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("AddSummary(TextValue(invalid UTF-8)) = %v, want an error about UTF-8", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run := &Run{Files: []string{w.Path()}}
	run.load()
	pts := run.Series(NoPurge)["notes"]
	if len(pts) != 1 || pts[0].Step != 1 {
		t.Errorf("notes has points at steps %v, want only the valid one at 1", steps(pts))
	}
}

// TestAddRecordTooLarge: our reader refuses records over MaxRecordSize, so
// the Writer refuses such an event in the Add call, before queueing it, and
// the file stays readable. The 1 GiB buffer is never written to, so the OS
// does not back it with memory.
func TestAddRecordTooLarge(t *testing.T) {
	w, err := Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, MaxRecordSize)
	huge := &tbpb.Summary_Value{Tag: "huge", Metadata: TextMetadata(), Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
		Dtype: tbpb.DataType_DT_STRING, TensorShape: &tbpb.TensorShapeProto{}, StringVal: [][]byte{big},
	}}}
	if err := w.AddSummary(1, huge); !errors.Is(err, ErrRecordTooLarge) || !strings.Contains(err.Error(), "huge") {
		t.Errorf("AddSummary of a %d-byte text = %v, want ErrRecordTooLarge naming the tag", len(big), err)
	}
	if err := w.AddText("huge", 1, "small"); err != nil {
		t.Errorf("small text under the refused tag: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := tagsWritten(t, w.Path()); len(got) != 1 {
		t.Errorf("file holds %q, want only the small text", got)
	}
}
