package tbwriter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// readRun reads dir as a log directory holding exactly one run.
func readRun(t *testing.T, dir string) *Run {
	t.Helper()
	runs, err := ReadLogdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("found %d runs in %s, want 1", len(runs), dir)
	}
	if runs[0].Err != nil {
		t.Fatalf("run error: %v", runs[0].Err)
	}
	return runs[0]
}

func steps(pts []Point) []int64 {
	var s []int64
	for _, p := range pts {
		s = append(s, p.Step)
	}
	return s
}

func seq(from, to int64) []int64 {
	var s []int64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestCreateHeader(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{StartStep: 42, Host: "my/host"})
	if err != nil {
		t.Fatal(err)
	}
	// The header is on disk before any Flush.
	events, err := ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events right after Create, want 2", len(events))
	}
	if got := events[0].GetFileVersion(); got != "brain.Event:2" {
		t.Errorf("first event file_version %q, want brain.Event:2", got)
	}
	if s := events[1].GetSessionLog(); s.GetStatus() != tbpb.SessionLog_START || events[1].Step != 42 {
		t.Errorf("second event = %v, want SessionLog START at step 42", events[1])
	}
	base := filepath.Base(w.Path())
	parts := strings.Split(base, ".")
	// events.out.tfevents.<secs>.<host>.<pid>.<counter>
	if len(parts) != 7 || len(parts[3]) != 10 || parts[4] != "my_host" || parts[5] != fmt.Sprint(os.Getpid()) {
		t.Errorf("file name %q does not follow events.out.tfevents.<10-digit secs>.<host>.<pid>.<counter>", base)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCreateSortsAfterExisting(t *testing.T) {
	dir := t.TempDir()
	// A file from the future and another host: ours must still sort after it.
	future := "events.out.tfevents.9999999000.zzzz.1.0"
	if err := os.WriteFile(filepath.Join(dir, future), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var names []string
	for range 12 { // more than 10 files: the counter gains a digit
		w, err := Create(dir, Options{Host: "aaaa"})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(w.Path()))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	all := append([]string{future}, names...)
	if !sort.StringsAreSorted(all) {
		t.Errorf("files were created out of name order: %q", all)
	}
}

func TestRoundTripAllKinds(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -0.5, math.MaxFloat32, math.SmallestNonzeroFloat32}
	for i, v := range special {
		if err := w.AddScalar("special", int64(i), v); err != nil {
			t.Fatal(err)
		}
		if err := w.AddScalarTensor("special_tensor", int64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	values := []float32{1, 2, 2, 3, 3, 3, 10, float32(math.NaN())}
	if err := w.AddHistogram("hist", 1, values); err != nil {
		t.Fatal(err)
	}
	pre := []Bucket{{0, 1, 5}, {1, 2, 0}, {2, 4, 7}}
	if err := w.AddHistogramBuckets("hist_pre", 1, pre); err != nil {
		t.Fatal(err)
	}
	if err := w.AddHistogramBuckets("hist_bad", 1, []Bucket{{2, 1, 1}}); err == nil {
		t.Error("AddHistogramBuckets accepted a bucket with Left > Right")
	}
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for y := range 2 {
		for x := range 3 {
			img.Set(x, y, color.RGBA{uint8(40 * x), uint8(100 * y), 7, 255})
		}
	}
	if err := w.AddImage("img", 2, img); err != nil {
		t.Fatal(err)
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	gray.SetGray(1, 1, color.Gray{200})
	grid := ImageGrid([]image.Image{img, gray, img}, 2)
	if err := w.AddImage("grid", 2, grid); err != nil {
		t.Fatal(err)
	}
	md := "# Config\n\n| lr | 0.01 |\n"
	if err := w.AddText("config", 0, md); err != nil {
		t.Fatal(err)
	}
	hp := HParams{Values: map[string]any{"lr": 0.01, "batch": 64, "opt": "sgd", "nesterov": false}, Metrics: []string{"test/acc", "train/loss"}}
	if err := w.AddHParams(hp); err != nil {
		t.Fatal(err)
	}
	if err := w.AddHParams(HParams{Values: map[string]any{"bad": []int{1}}}); err == nil {
		t.Error("AddHParams accepted a slice value")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	run := readRun(t, dir)
	for _, rule := range []PurgeRule{NoPurge, PythonPurge, RustPurge} {
		s := run.Series(rule)
		for _, tag := range []string{"special", "special_tensor"} {
			pts := s[tag]
			if len(pts) != len(special) {
				t.Fatalf("%v %s: %d points, want %d", rule, tag, len(pts), len(special))
			}
			for i, p := range pts {
				got, ok := ScalarOf(p.Value)
				if !ok || p.Step != int64(i) || math.Float32bits(float32(got)) != math.Float32bits(special[i]) {
					t.Errorf("%v %s point %d = (%d, %v, ok=%v), want (%d, %v)", rule, tag, i, p.Step, got, ok, i, special[i])
				}
			}
			if tag == "special_tensor" {
				tensor := pts[0].Value.GetTensor()
				if tensor.GetDtype() != tbpb.DataType_DT_FLOAT || len(tensor.GetTensorShape().GetDim()) != 0 {
					t.Errorf("scalar tensor dtype %v rank %d, want DT_FLOAT rank 0", tensor.GetDtype(), len(tensor.GetTensorShape().GetDim()))
				}
				if PluginName(pts[0].Value) != "scalars" || pts[0].Value.GetMetadata().GetDataClass() != tbpb.DataClass_DATA_CLASS_SCALAR {
					t.Errorf("scalar tensor metadata %v", pts[0].Value.GetMetadata())
				}
			}
		}
	}
	s := run.Series(NoPurge)

	gotHist, ok := HistogramOf(s["hist"][0].Value)
	if !ok {
		t.Fatalf("hist is not a histogram: %v", s["hist"][0].Value)
	}
	if diff := cmp.Diff(HistogramBuckets(values, DefaultHistogramBuckets), gotHist); diff != "" {
		t.Errorf("histogram differs (-want +got):\n%s", diff)
	}
	total := 0.0
	for _, b := range gotHist {
		total += b.Count
	}
	if total != 7 || len(gotHist) != 30 || gotHist[0].Left != 1 || gotHist[29].Right != 10 {
		t.Errorf("histogram: %d buckets over [%v, %v] holding %v values, want 30 over [1, 10] holding 7 (NaN skipped)",
			len(gotHist), gotHist[0].Left, gotHist[len(gotHist)-1].Right, total)
	}
	if got, _ := HistogramOf(s["hist_pre"][0].Value); !cmp.Equal(got, pre) {
		t.Errorf("pre-bucketed histogram = %v, want %v", got, pre)
	}
	if _, ok := s["hist_bad"]; ok {
		t.Error("rejected histogram was written")
	}

	for tag, want := range map[string]image.Image{"img": img, "grid": grid} {
		im := s[tag][0].Value.GetImage()
		dec, err := png.Decode(bytes.NewReader(im.GetEncodedImageString()))
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		if int(im.Width) != want.Bounds().Dx() || int(im.Height) != want.Bounds().Dy() {
			t.Errorf("%s: header says %dx%d, want %dx%d", tag, im.Width, im.Height, want.Bounds().Dx(), want.Bounds().Dy())
		}
		for y := range want.Bounds().Dy() {
			for x := range want.Bounds().Dx() {
				r1, g1, b1, a1 := dec.At(x, y).RGBA()
				r2, g2, b2, a2 := want.At(x, y).RGBA()
				if [4]uint32{r1, g1, b1, a1} != [4]uint32{r2, g2, b2, a2} {
					t.Fatalf("%s pixel (%d,%d) = %v, want %v", tag, x, y, dec.At(x, y), want.At(x, y))
				}
			}
		}
	}
	// Grid layout: 2 columns, cells 3x2, 2-pixel padding; the gray image's
	// lit pixel lands in cell (1, 0) at offset (1, 1).
	if g := grid.Bounds(); g.Dx() != 2*(3+2)+2 || g.Dy() != 2*(2+2)+2 {
		t.Errorf("grid is %v, want 12x10", g)
	}
	if r, _, _, _ := grid.At(2+5+1, 2+1).RGBA(); r>>8 != 200 {
		t.Errorf("grid pixel of the gray image = %v, want gray 200", grid.At(8, 3))
	}

	if got, ok := TextOf(s["config"][0].Value); !ok || len(got) != 1 || got[0] != md {
		t.Errorf("text = %q, %v; want [%q]", got, ok, md)
	}
	if PluginName(s["config"][0].Value) != "text" {
		t.Errorf("text plugin = %q", PluginName(s["config"][0].Value))
	}

	exp, ok := HParamsOf(s[HParamsExperimentTag][0].Value)
	if !ok {
		t.Fatal("no hparams experiment")
	}
	var names, metrics []string
	for _, h := range exp.GetExperiment().GetHparamInfos() {
		names = append(names, h.Name)
	}
	for _, m := range exp.GetExperiment().GetMetricInfos() {
		metrics = append(metrics, m.GetName().GetTag())
	}
	if diff := cmp.Diff([]string{"batch", "lr", "nesterov", "opt"}, names); diff != "" {
		t.Errorf("hparam names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(hp.Metrics, metrics); diff != "" {
		t.Errorf("metric tags (-want +got):\n%s", diff)
	}
	start, _ := HParamsOf(s[HParamsSessionStartTag][0].Value)
	got := start.GetSessionStartInfo().GetHparams()
	if got["lr"].GetNumberValue() != 0.01 || got["batch"].GetNumberValue() != 64 || got["opt"].GetStringValue() != "sgd" || got["nesterov"].GetBoolValue() {
		t.Errorf("session start hparams = %v", got)
	}
	end := s[HParamsSessionEndTag]
	if len(end) != 1 || end[0].Step != 0 {
		t.Fatalf("session end points %v, want one at step 0", end)
	}
	if e, _ := HParamsOf(end[0].Value); e.GetSessionEndInfo().GetStatus() != tbpb.Status_STATUS_SUCCESS {
		t.Errorf("session end = %v, want STATUS_SUCCESS", e)
	}
	for _, tag := range []string{HParamsExperimentTag, HParamsSessionStartTag, HParamsSessionEndTag} {
		if len(s[tag]) != 1 || s[tag][0].Step != 0 {
			t.Errorf("%s: points %v, want one at step 0", tag, steps(s[tag]))
		}
	}
}

// TestTwoSessions is the resume contract: 0..99, then a session resuming at
// 50 that re-logs 50..149, gives 0..149 exactly once in both loaders; text
// logged once at step 0 survives.
func TestSessionStatus(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddHParams(HParams{Values: map[string]any{"lr": 0.1}}); err != nil {
		t.Fatal(err)
	}
	w.SetSessionStatus(tbpb.Status_STATUS_FAILURE)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	end := readRun(t, dir).Series(NoPurge)[HParamsSessionEndTag]
	if len(end) != 1 {
		t.Fatalf("%d session end points, want 1", len(end))
	}
	if d, _ := HParamsOf(end[0].Value); d.GetSessionEndInfo().GetStatus() != tbpb.Status_STATUS_FAILURE {
		t.Errorf("session end = %v, want STATUS_FAILURE", d)
	}
	// Without AddHParams, Close writes no session end.
	dir2 := t.TempDir()
	w2, err := Create(dir2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w2.AddScalar("x", 1, 1)
	w2.Close()
	if n := len(readRun(t, dir2).Series(NoPurge)[HParamsSessionEndTag]); n != 0 {
		t.Errorf("%d session end points without AddHParams, want 0", n)
	}
}

func TestTwoSessions(t *testing.T) {
	dir := t.TempDir()
	w1, err := Create(dir, Options{StartStep: 0})
	if err != nil {
		t.Fatal(err)
	}
	w1.AddText("config", 0, "run once")
	for s := int64(0); s <= 99; s++ {
		w1.AddScalar("loss", s, float32(s))
		w1.AddScalar("acc", s, float32(s)/100)
	}
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := Create(dir, Options{StartStep: 50})
	if err != nil {
		t.Fatal(err)
	}
	for s := int64(50); s <= 149; s++ {
		w2.AddScalar("loss", s, float32(s)+0.5) // new values: old ones must be gone
		w2.AddScalar("acc", s, float32(s)/100+0.001)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	run := readRun(t, dir)
	if len(run.Files) != 2 {
		t.Fatalf("%d files, want 2", len(run.Files))
	}
	for _, rule := range []PurgeRule{PythonPurge, RustPurge} {
		s := run.Series(rule)
		for _, tag := range []string{"loss", "acc"} {
			if diff := cmp.Diff(seq(0, 149), steps(s[tag])); diff != "" {
				t.Errorf("%v %s: steps (-want +got):\n%s", rule, tag, diff)
			}
			for _, p := range s[tag] {
				v, _ := ScalarOf(p.Value)
				fromSecond := p.Step >= 50
				if tag == "loss" && (v == float64(p.Step)+0.5) != fromSecond {
					t.Errorf("%v loss step %d = %v: wrong session's value", rule, p.Step, v)
				}
			}
		}
		if len(s["config"]) != 1 {
			t.Errorf("%v: config text has %d points, want 1", rule, len(s["config"]))
		}
	}
	if n := len(run.Series(NoPurge)["loss"]); n != 200 {
		t.Errorf("NoPurge: %d loss points, want 200 (both sessions)", n)
	}
}

// TestRustPurgeFixtures checks RustPurge on the fixtures whose README says
// what the Rust data server differs in.
func TestRustPurgeFixtures(t *testing.T) {
	tests := []struct {
		run, tag string
		python   []int64
		rust     []int64
	}{
		// PyTorch without START in the first session: Python shows 50..99
		// twice; the Rust server's per-tag preemption shows 0..149 once.
		{"torch-1.13/purge", "x", append(seq(0, 99), seq(50, 149)...), seq(0, 149)},
		{"torch-1.13/nopurge", "x", append(seq(0, 99), seq(50, 149)...), seq(0, 149)},
		{"purge-variants/v3_start_in_both_sessions", "x", seq(0, 149), seq(0, 149)},
		// Tag b is not re-logged: a START purges it in Python only.
		{"purge-variants/v6_two_tags_start", "b", seq(0, 49), seq(0, 99)},
	}
	for _, tt := range tests {
		root := filepath.Join(fixtures, filepath.Dir(tt.run))
		runs, err := ReadLogdir(root)
		if err != nil {
			t.Fatal(err)
		}
		var run *Run
		for _, r := range runs {
			if r.Name == filepath.Base(tt.run) {
				run = r
			}
		}
		if run == nil {
			t.Fatalf("run %s not found", tt.run)
		}
		if diff := cmp.Diff(tt.python, steps(run.Series(PythonPurge)[tt.tag])); diff != "" {
			t.Errorf("%s PythonPurge (-want +got):\n%s", tt.run, diff)
		}
		if diff := cmp.Diff(tt.rust, steps(run.Series(RustPurge)[tt.tag])); diff != "" {
			t.Errorf("%s RustPurge (-want +got):\n%s", tt.run, diff)
		}
	}
}

// TestConcurrentExactlyOnce logs from many goroutines while others Flush and
// Sync; every event must arrive exactly once, each goroutine's in order.
func TestConcurrentExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{QueueSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 16, 500
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var flushers sync.WaitGroup
	for i := range 3 {
		flushers.Add(1)
		go func() {
			defer flushers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if i == 0 {
					err = w.Sync()
				} else {
					err = w.Flush(context.Background())
				}
				if err != nil {
					t.Errorf("flush: %v", err)
					return
				}
			}
		}()
	}
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag := fmt.Sprintf("g%02d", g)
			for s := range int64(perWriter) {
				if err := w.AddScalar(tag, s, float32(s)); err != nil {
					t.Errorf("AddScalar: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	flushers.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s := readRun(t, dir).Series(NoPurge)
	if len(s) != writers {
		t.Fatalf("%d tags, want %d", len(s), writers)
	}
	for tag, pts := range s {
		if diff := cmp.Diff(seq(0, perWriter-1), steps(pts)); diff != "" {
			t.Errorf("%s: steps (-want +got):\n%s", tag, diff)
		}
	}
}

// blockingWriter blocks every Write after the first (the header) until
// released, and records what it got.
type blockingWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
	release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.writes++
	first := b.writes == 1
	b.mu.Unlock()
	if !first {
		<-b.release
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestQueueFullBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bw := &blockingWriter{release: make(chan struct{})}
		w, err := NewWriter(bw, Options{QueueSize: 1, FlushInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		// A Flush of one scalar makes the background goroutine block in Write.
		if err := w.AddScalar("a", 0, 0); err != nil {
			t.Fatal(err)
		}
		flushed := make(chan error, 1)
		go func() { flushed <- w.Flush(context.Background()) }()
		synctest.Wait()
		// One item fits in the queue; the second Add must block, not drop.
		if err := w.AddScalar("a", 1, 1); err != nil {
			t.Fatal(err)
		}
		added := make(chan error, 1)
		go func() { added <- w.AddScalar("a", 2, 2) }()
		synctest.Wait()
		select {
		case err := <-added:
			t.Fatalf("AddScalar on a full queue returned %v instead of blocking", err)
		default:
		}
		// A Flush with a cancelled context gives up instead of blocking.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := w.Flush(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Flush(cancelled) = %v, want context.Canceled", err)
		}
		close(bw.release)
		if err := <-added; err != nil {
			t.Fatal(err)
		}
		if err := <-flushed; err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		events, err := ReadEvents(bytes.NewReader(bw.buf.Bytes()), "buffer")
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, ev := range events[2:] {
			got = append(got, ev.Step)
		}
		if diff := cmp.Diff([]int64{0, 1, 2}, got); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
	})
}

func TestOneSlotQueueKeepsOrder(t *testing.T) {
	var buf syncBuffer
	w, err := NewWriter(&buf, Options{QueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	for s := range int64(1000) {
		if err := w.AddScalar("x", s, float32(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := ReadEvents(bytes.NewReader(buf.Bytes()), "buffer")
	if err != nil {
		t.Fatal(err)
	}
	run := &Run{Events: events}
	if diff := cmp.Diff(seq(0, 999), steps(run.Series(NoPurge)["x"])); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func TestCloseFlushesAndUseAfterClose(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for s := range int64(10) {
		w.AddScalar("x", s, 1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := steps(readRun(t, dir).Series(NoPurge)["x"]); len(got) != 10 {
		t.Errorf("after Close the file holds %d points, want 10", len(got))
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want the first result (nil)", err)
	}
	for name, err := range map[string]error{
		"AddScalar":  w.AddScalar("x", 11, 1),
		"AddText":    w.AddText("t", 11, "x"),
		"Flush":      w.Flush(context.Background()),
		"Sync":       w.Sync(),
		"AddHParams": w.AddHParams(HParams{Values: map[string]any{"a": 1}}),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestBackgroundFailureIsSticky(t *testing.T) {
	// The header goes through, every later write fails.
	w, err := NewWriter(&failWriter{n: 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddScalar("x", 1, 1); err != nil {
		t.Fatalf("first AddScalar: %v (the failure happens in the background)", err)
	}
	ferr := w.Flush(context.Background())
	if ferr == nil || !strings.Contains(ferr.Error(), "disk full") {
		t.Fatalf("Flush = %v, want the write error", ferr)
	}
	if err := w.AddScalar("x", 2, 2); err == nil || err.Error() != ferr.Error() {
		t.Errorf("AddScalar after failure = %v, want sticky %v", err, ferr)
	}
	if err := w.Sync(); err == nil || err.Error() != ferr.Error() {
		t.Errorf("Sync after failure = %v, want sticky %v", err, ferr)
	}
	if err := w.Close(); err == nil || err.Error() != ferr.Error() {
		t.Errorf("Close after failure = %v, want sticky %v", err, ferr)
	}
	// A header that cannot be written fails the constructor.
	if _, err := NewWriter(&failWriter{n: 0}, Options{}); err == nil {
		t.Error("NewWriter succeeded on a writer that fails")
	}
}

func TestFlushTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		w, err := Create(dir, Options{FlushInterval: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		size := func() int64 {
			fi, err := os.Stat(w.Path())
			if err != nil {
				t.Fatal(err)
			}
			return fi.Size()
		}
		header := size()
		w.AddScalar("x", 1, 1)
		synctest.Wait()
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if got := size(); got != header {
			t.Errorf("after 4s the file has %d bytes, want the %d-byte header only (buffered)", got, header)
		}
		time.Sleep(1 * time.Second)
		synctest.Wait()
		if got := size(); got <= header {
			t.Errorf("after 5s the file has %d bytes, want the scalar flushed", got)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFlushDelayHook checks the test-only hook that splits a batch write in
// two with a pause, for crash tests: set through faultinject it splits the
// write; the environment variable alone changes nothing (only cmd/train and
// test binaries install it).
func TestFlushDelayHook(t *testing.T) {
	for _, tc := range []struct {
		env    string
		delay  time.Duration
		writes int
	}{{"", 0, 2}, {"", time.Millisecond, 3}, {"1h", 0, 2}} {
		t.Setenv(faultinject.FlushDelayEnv, tc.env)
		restore := faultinject.SetFlushDelay(tc.delay)
		cw := &countingWriter{}
		w, err := NewWriter(cw, Options{})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		w.AddScalar("x", 1, 1)
		if err := w.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		w.Close()
		// The header, then the batch: in one write, or two halves.
		if cw.writes != tc.writes {
			t.Errorf("%s=%q, flush delay %v: %d writes, want %d", faultinject.FlushDelayEnv, tc.env, tc.delay, cw.writes, tc.writes)
		}
	}
}

type countingWriter struct {
	mu     sync.Mutex
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return len(p), nil
}

// TestEventFileTruncation cuts a small event file written by this package at
// every byte: the reader returns exactly the events wholly before the cut,
// and a torn-tail error unless the cut falls on a record boundary.
func TestEventFileTruncation(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Options{StartStep: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.AddScalar("loss", 3, 0.5)
	w.AddText("note", 3, "hi")
	w.AddHistogram("h", 4, []float32{1, 2, 3})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	full, err := ReadEvents(bytes.NewReader(data), "full")
	if err != nil || len(full) != 5 {
		t.Fatalf("full file: %d events, %v; want 5, nil", len(full), err)
	}
	// Record boundaries.
	ends := map[int]int{0: 0} // byte offset -> events before it
	rr := NewRecordReader(bytes.NewReader(data))
	for i := 1; ; i++ {
		if _, err := rr.Next(); err != nil {
			break
		}
		ends[int(rr.Offset())] = i
	}
	whole := 0
	for cut := 0; cut <= len(data); cut++ {
		if n, ok := ends[cut]; ok {
			whole = n
		}
		got, err := ReadEvents(bytes.NewReader(data[:cut]), "cut")
		if len(got) != whole {
			t.Fatalf("cut %d: %d events, want %d", cut, len(got), whole)
		}
		for i := range got {
			if !cmp.Equal(full[i], got[i], protocmp.Transform()) {
				t.Fatalf("cut %d: event %d differs", cut, i)
			}
		}
		_, boundary := ends[cut]
		if boundary != (err == nil) {
			t.Fatalf("cut %d: err = %v, boundary = %v", cut, err, boundary)
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut %d: err = %v, want a torn tail", cut, err)
		}
	}
}

// TestHParamsInvalidUTF8 checks that bad strings in HParams are an error
// naming the field, never a panic (proto.Marshal rejects invalid UTF-8 in
// proto3 strings).
func TestHParamsInvalidUTF8(t *testing.T) {
	bad := "lr\xff"
	cases := map[string]HParams{
		"name":   {Values: map[string]any{bad: 1.0}},
		"value":  {Values: map[string]any{"opt": bad}},
		"metric": {Metrics: []string{bad}},
		"group":  {GroupName: bad},
	}
	for name, hp := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("HParamsValues panicked: %v", r)
				}
			}()
			_, err := HParamsValues(hp, time.Unix(1, 0))
			if err == nil || !strings.Contains(err.Error(), "UTF-8") {
				t.Fatalf("HParamsValues(%s) = %v, want an error about UTF-8", name, err)
			}
		})
	}
}

// TestCreateSortsAfterForeignNames: TensorBoard counts every file whose
// name contains "tfevents" as an event file and reads a run's files in name
// order, so Create must choose a name after foreign ones too: from a clock
// at 1970, from another program, or one no 10-digit second can follow. The
// fallback names must not grow from one session to the next.
func TestCreateSortsAfterForeignNames(t *testing.T) {
	for _, foreign := range []string{
		"events.out.tfevents.86400.raspberrypi.123.0", // clock at 1970: 5-digit seconds
		"foo.tfevents.1",
		"zz.tfevents.1.host",
		"events.out.tfevents.zzz",
		"events.out.tfevents.9999999999.host.1.0", // the last 10-digit second
	} {
		t.Run(foreign, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, foreign), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			// A non-event file sorting last must not matter.
			if err := os.WriteFile(filepath.Join(dir, "zzzz.txt"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			names := []string{foreign}
			for range 3 {
				w, err := Create(dir, Options{Host: "h"})
				if err != nil {
					t.Fatalf("Create after %q: %v", names[len(names)-1], err)
				}
				names = append(names, filepath.Base(w.Path()))
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if !sort.StringsAreSorted(names) {
				t.Errorf("files created out of name order: %q", names)
			}
			for _, n := range names[1:] {
				if !IsEventFile(n) {
					t.Errorf("%q is not an event file name", n)
				}
			}
			if l2, l3 := len(names[2]), len(names[3]); l3 > l2 {
				t.Errorf("names grow from one session to the next: %q, then %q", names[2], names[3])
			}
			// TensorBoard reads them in this order: the last session is last.
			run := readRun(t, dir)
			if got := filepath.Base(run.Files[len(run.Files)-1]); got != names[3] {
				t.Errorf("last file read is %q, want %q", got, names[3])
			}
		})
	}
}

// TestCreateMakesRunDir: like PyTorch's SummaryWriter(log_dir), Create
// makes the run directory and its parents.
func TestCreateMakesRunDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "exp1", "lenet")
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddScalar("x", 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := filepath.Dir(w.Path()); got != dir {
		t.Errorf("file created in %s, want %s", got, dir)
	}
	if n := len(readRun(t, dir).Series(NoPurge)["x"]); n != 1 {
		t.Errorf("%d points of x, want 1", n)
	}
	// A path through a regular file is still an error naming it.
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if w, err := Create(filepath.Join(file, "run"), Options{}); err == nil {
		w.Close()
		t.Error("Create under a regular file succeeded")
	} else if !strings.Contains(err.Error(), "plain") {
		t.Errorf("error %q does not name the path", err)
	}
}

// TestHParamsNamedTypes: hyperparameters of named types (a time.Duration, a
// user's type Optimizer string) are stored like their underlying kinds.
func TestHParamsNamedTypes(t *testing.T) {
	type optimizer string
	type rate float32
	_, err := HParamsValues(HParams{Values: map[string]any{
		"opt":     optimizer("sgd"),
		"lr":      rate(0.5),
		"timeout": 3 * time.Nanosecond,
		"nil":     nil,
	}}, time.Unix(1, 0))
	if err == nil || !strings.Contains(err.Error(), `"nil"`) {
		t.Fatalf("HParamsValues with a nil value = %v, want an error naming it", err)
	}
	values, err := HParamsValues(HParams{Values: map[string]any{
		"opt":     optimizer("sgd"),
		"lr":      rate(0.5),
		"timeout": 3 * time.Nanosecond,
	}}, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	start, ok := HParamsOf(values[1])
	if !ok {
		t.Fatal("second value holds no hparams plugin data")
	}
	got := map[string]any{}
	for k, v := range start.GetSessionStartInfo().GetHparams() {
		got[k] = v.AsInterface()
	}
	want := map[string]any{"opt": "sgd", "lr": 0.5, "timeout": 3.0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session start hparams (-want +got):\n%s", diff)
	}
}

// TestWriteErrorsNameTheDestination: a background write error names the
// event file (Create) or says "event stream" (NewWriter), never an empty
// name.
func TestWriteErrorsNameTheDestination(t *testing.T) {
	if _, err := NewWriter(&failWriter{n: 0}, Options{}); err == nil || !strings.Contains(err.Error(), "header of event stream: disk full") {
		t.Errorf("NewWriter on a failing writer = %v, want it to name the event stream and the cause", err)
	}
	w, err := NewWriter(&failWriter{n: 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.AddScalar("x", 1, 1)
	if err := w.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "write event stream: disk full") {
		t.Errorf("Flush = %v, want it to name the event stream and the cause", err)
	}
	w.Close()

	// A file closed behind the Writer's back: the error names the file.
	w, err = Create(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.file.Close()
	w.AddScalar("x", 1, 1)
	if err := w.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "write "+w.Path()+": ") {
		t.Errorf("Flush = %v, want it to name %s", err, w.Path())
	}
	w.Close()
}

func TestHParamsSessionEndValue(t *testing.T) {
	v := HParamsSessionEndValue(tbpb.Status_STATUS_FAILURE, time.Unix(5, 500_000_000))
	if v.Tag != HParamsSessionEndTag || PluginName(v) != "hparams" {
		t.Fatalf("tag %q plugin %q, want %q hparams", v.Tag, PluginName(v), HParamsSessionEndTag)
	}
	data, ok := HParamsOf(v)
	if !ok {
		t.Fatal("no hparams plugin data")
	}
	end := data.GetSessionEndInfo()
	if end.GetStatus() != tbpb.Status_STATUS_FAILURE || end.GetEndTimeSecs() != 5.5 || data.GetVersion() != 0 {
		t.Errorf("session end %v version %d, want FAILURE at 5.5, version 0", end, data.GetVersion())
	}
}

// writeX writes an event file in dir holding the scalar x = v at step and
// returns its path.
func writeX(t *testing.T, dir string, step int64, v float32) string {
	t.Helper()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.AddScalar("x", step, v)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Path()
}

// TestReadRun: ReadRun reads the event files directly in a directory (a
// link to one too), as ReadLogdir reads the run ".", and nothing below it:
// another run's files there, damaged or not, are not read.
func TestReadRun(t *testing.T) {
	elsewhere := t.TempDir()
	dir := t.TempDir()
	own := writeX(t, dir, 1, 1)
	linked := filepath.Join(dir, "events.out.tfevents.2.linked")
	if err := os.Symlink(writeX(t, elsewhere, 2, 2), linked); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeX(t, sub, 3, 3)
	if err := os.WriteFile(filepath.Join(sub, "events.out.tfevents.0.bad"), []byte("not an event file"), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{own, linked}
	sort.Strings(want)
	if run.Name != "." || run.Err != nil || !slices.Equal(run.Files, want) {
		t.Errorf("ReadRun = run %q files %v err %v, want \".\" with %v and no error", run.Name, run.Files, run.Err, want)
	}
	if got := steps(run.Series(NoPurge)["x"]); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("ReadRun: steps of x %v, want [1 2]", got)
	}
	runs, err := ReadLogdir(dir)
	if err != nil || len(runs) != 2 || runs[0].Name != "." || !slices.Equal(runs[0].Files, run.Files) {
		t.Errorf("ReadLogdir's run \".\" differs from ReadRun's %v: %v, %v", run.Files, runs, err)
	}
	if _, err := ReadRun(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadRun of a missing directory: %v, want fs.ErrNotExist", err)
	}
}

// TestReadLogdirFollowsSymlinks: both TensorBoard loaders follow symbolic
// links to run directories and to event files (the Rust server walks with
// follow_links(true)), a common way to gather runs for comparison. A link
// back to an ancestor must not loop.
func TestReadLogdirFollowsSymlinks(t *testing.T) {
	elsewhere := t.TempDir()
	logdir := t.TempDir()
	realRun := filepath.Join(elsewhere, "exp1")
	if err := os.Mkdir(realRun, 0o755); err != nil {
		t.Fatal(err)
	}
	writeX(t, realRun, 1, 1)
	file := writeX(t, elsewhere, 1, 2)
	if err := os.Symlink(realRun, filepath.Join(logdir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(logdir, "own"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, filepath.Join(logdir, "own", filepath.Base(file))); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(logdir, filepath.Join(logdir, "own", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "missing"), filepath.Join(logdir, "dangling.tfevents")); err != nil {
		t.Fatal(err)
	}
	runs, err := ReadLogdir(logdir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, r := range runs {
		if r.Err != nil {
			t.Errorf("run %s: %v", r.Name, r.Err)
		}
		got[r.Name] = steps(r.Series(NoPurge)["x"])
	}
	want := map[string][]int64{"linked": {1}, "own": {1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runs -> steps of x (-want +got):\n%s", diff)
	}
}
