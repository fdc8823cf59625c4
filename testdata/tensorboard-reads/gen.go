//go:build ignore

// gen.go writes the event files of this folder with tbwriter (see README.md):
//
//	go run ./testdata/tensorboard-reads/gen.go testdata/tensorboard-reads
//
// Times are fixed, so a rerun writes the same records (file names carry the
// host "gen" and this process's pid).
package main

import (
	"fmt"
	"image"
	"image/color"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) != 2 {
		log.Fatal("usage: go run gen.go OUTDIR")
	}
	out := os.Args[1]
	for _, run := range []string{"hparams_resumed", "profile_only", "profile_beside", "sampled"} {
		check(os.RemoveAll(filepath.Join(out, run)))
	}
	hparamsResumed(filepath.Join(out, "hparams_resumed"))
	profile(filepath.Join(out, "profile_only"), false)
	profile(filepath.Join(out, "profile_beside"), true)
	sampled(filepath.Join(out, "sampled"))
}

// clock returns a Now function starting at base and advancing 1 s per call.
func clock(base int64) func() time.Time {
	t := time.Unix(base, 0)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func create(dir string, start int64, base int64) *tbwriter.Writer {
	w, err := tbwriter.Create(dir, tbwriter.Options{Host: "gen", StartStep: start, Now: clock(base)})
	if err != nil {
		log.Fatal(err)
	}
	return w
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// hparamsResumed: session 1 logs hparams (lr 0.1) at step 0, loss 0..9 and
// a session end RUNNING at step 9 (it stopped to be resumed). Session 2
// resumes at step 5 (START 5, which makes the Python loader purge steps >=
// 5), logs a second session start (lr 0.2) at step 5, loss 5..14 and a
// session end SUCCESS at step 14. TensorBoard shows the FIRST session start
// and the FIRST session end (RUNNING), although the Python purge dropped
// that end's point.
func hparamsResumed(dir string) {
	w := create(dir, 0, 1700000000)
	hp, err := tbwriter.HParamsValues(tbwriter.HParams{Values: map[string]any{"lr": 0.1}, Metrics: []string{"loss"}}, time.Unix(1700000000, 0))
	check(err)
	check(w.AddSummary(0, hp...))
	for s := int64(0); s < 10; s++ {
		check(w.AddScalar("loss", s, float32(s)))
	}
	check(w.AddSummary(9, tbwriter.HParamsSessionEndValue(tbpb.Status_STATUS_RUNNING, time.Unix(1700000100, 0))))
	check(w.Close())

	w = create(dir, 5, 1700001000)
	hp, err = tbwriter.HParamsValues(tbwriter.HParams{Values: map[string]any{"lr": 0.2}, Metrics: []string{"loss"}}, time.Unix(1700001000, 0))
	check(err)
	check(w.AddSummary(5, hp[1])) // session start only
	for s := int64(5); s < 15; s++ {
		check(w.AddScalar("loss", s, float32(100+s)))
	}
	check(w.AddSummary(14, tbwriter.HParamsSessionEndValue(tbpb.Status_STATUS_SUCCESS, time.Unix(1700001100, 0))))
	check(w.Close())
}

// profile writes a "*.profile-empty" event file holding a file_version
// event and one scalar "prof" (TensorFlow's profiler writes it empty; the
// scalar shows whether a loader reads it), beside a normal event file with
// a scalar "loss" when beside is set.
func profile(dir string, beside bool) {
	w := create(dir, 0, 1700000000)
	check(w.AddScalar("prof", 1, 1))
	check(w.Close())
	name := fmt.Sprintf("events.out.tfevents.%d.gen.profile-empty", 1700000000)
	check(os.Rename(w.Path(), filepath.Join(dir, name)))
	if beside {
		w := create(dir, 0, 1700000500)
		check(w.AddScalar("loss", 1, 0.5))
		check(w.Close())
	}
}

// sampled logs more points per tag than TensorBoard serves by default:
// 1,500 scalars, 600 histograms, 15 images and 15 texts.
func sampled(dir string) {
	w := create(dir, 0, 1700000000)
	for s := int64(0); s < 1500; s++ {
		check(w.AddScalar("loss", s, float32(s)))
	}
	for s := int64(0); s < 600; s++ {
		check(w.AddHistogramBuckets("weights", s, []tbwriter.Bucket{{Left: float64(s), Right: float64(s) + 1, Count: 3}}))
	}
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	for s := int64(0); s < 15; s++ {
		img.SetGray(0, 0, color.Gray{uint8(s)})
		check(w.AddImage("digits", s, img))
		check(w.AddText("notes", s, fmt.Sprintf("step %d", s)))
	}
	check(w.Close())
}
