package tbwriter_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/tbtrain/tbtrain/tbwriter"
)

// Log a few scalars and a config note into a run directory, then read the
// run back the way TensorBoard's Python loader would show it.
func Example() {
	logdir, err := os.MkdirTemp("", "tbwriter-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(logdir)

	w, err := tbwriter.Create(logdir, tbwriter.Options{})
	if err != nil {
		log.Fatal(err)
	}
	w.AddText("config", 0, "lr = 0.01")
	for step := int64(1); step <= 3; step++ {
		w.AddScalar("train/loss", step, 1/float32(step))
	}
	if err := w.Close(); err != nil { // flushes, fsyncs and closes
		log.Fatal(err)
	}

	runs, err := tbwriter.ReadLogdir(logdir)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range runs[0].Series(tbwriter.PythonPurge)["train/loss"] {
		v, _ := tbwriter.ScalarOf(p.Value)
		fmt.Printf("step %d: %.4f\n", p.Step, v)
	}
	// Output:
	// step 1: 1.0000
	// step 2: 0.5000
	// step 3: 0.3333
}

// Resume a run: the second session starts at step 3 and re-logs from there.
// Both TensorBoard loaders then show every step exactly once.
func Example_resume() {
	logdir, err := os.MkdirTemp("", "tbwriter-resume")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(logdir)

	session := func(start, end int64) {
		w, err := tbwriter.Create(logdir, tbwriter.Options{StartStep: start})
		if err != nil {
			log.Fatal(err)
		}
		for step := start; step <= end; step++ {
			w.AddScalar("loss", step, float32(step))
		}
		if err := w.Close(); err != nil {
			log.Fatal(err)
		}
	}
	session(0, 5) // crashed after logging step 5, checkpoint was at step 2
	session(3, 7) // resumed from the checkpoint: StartStep = 2+1

	runs, err := tbwriter.ReadLogdir(logdir)
	if err != nil {
		log.Fatal(err)
	}
	for _, rule := range []tbwriter.PurgeRule{tbwriter.NoPurge, tbwriter.PythonPurge, tbwriter.RustPurge} {
		var steps []int64
		for _, p := range runs[0].Series(rule)["loss"] {
			steps = append(steps, p.Step)
		}
		fmt.Println(rule, steps)
	}
	// Output:
	// NoPurge [0 1 2 3 4 5 3 4 5 6 7]
	// PythonPurge [0 1 2 3 4 5 6 7]
	// RustPurge [0 1 2 3 4 5 6 7]
}

func ExampleHistogramBuckets() {
	for _, b := range tbwriter.HistogramBuckets([]float32{0, 1, 1, 2, 4}, 4) {
		fmt.Printf("[%g, %g): %g\n", b.Left, b.Right, b.Count)
	}
	// Output:
	// [0, 1): 1
	// [1, 2): 2
	// [2, 3): 1
	// [3, 4): 1
}

// Frame arbitrary payloads as TFRecords and read them back.
func ExampleRecordWriter() {
	var buf bytes.Buffer
	rw := tbwriter.NewRecordWriter(&buf)
	rw.WriteRecord([]byte("hello"))
	rw.WriteRecord([]byte("world"))

	rr := tbwriter.NewRecordReader(bytes.NewReader(buf.Bytes()[:buf.Len()-3])) // torn tail
	for {
		p, err := rr.Next()
		if err != nil {
			fmt.Printf("offset %d: %v\n", rr.Offset(), err)
			break
		}
		fmt.Printf("%s\n", p)
	}
	// Output:
	// hello
	// offset 21: tbwriter: truncated record in data crc (18 of 21 bytes present)
}
