package trainer

import (
	"context"
	"testing"

	"github.com/tbtrain/tbtrain/mnist/mnisttest"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// benchDashboards returns a trainer of the default config over a test set
// of MNIST's size (10,000 synthetic images) with an event file open in a
// temporary run directory, and its test pass with the penultimate
// activations of the first embed images.
func benchDashboards(b *testing.B, embed int) (*Trainer, *testPass) {
	cfg := DefaultConfig()
	t, err := newTrainer(cfg, mnisttest.Synth(int(cfg.BatchSize), 1), mnisttest.Synth(10000, 3), Options{})
	if err != nil {
		b.Fatal(err)
	}
	t.dir = b.TempDir()
	if t.w, err = tbwriter.Create(t.dir, tbwriter.Options{}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { t.w.Close() })
	return t, t.evaluate(embed)
}

// BenchmarkEpochEndTabs measures what the PR Curves, Images and Text tabs
// cost at each epoch's end besides the test pass they come from: the
// confusion matrix as a picture (drawn, reduced to a palette, PNG-encoded)
// and as a markdown table, and the ten PR curves over the 10,000 test
// images, written to the event file (flushed each time). Compare it with a
// training epoch (package bench, BenchmarkEpoch) measured in the same run.
func BenchmarkEpochEndTabs(b *testing.B) {
	t, tp := benchDashboards(b, 0)
	info := EpochInfo{Epoch: 19, Step: 18740, TestAcc: tp.acc}
	b.ReportAllocs()
	for b.Loop() {
		if err := t.logTestPass(info, tp); err != nil {
			b.Fatal(err)
		}
		if err := t.w.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEpochEndProjector measures the projector entry of the default
// --embed (the first 1,000 test images: tensors.tsv, metadata.tsv, the
// sprite and the config, each replaced atomically), written once per run,
// at its last epoch.
func BenchmarkEpochEndProjector(b *testing.B) {
	t, tp := benchDashboards(b, DefaultEmbed)
	b.ReportAllocs()
	for b.Loop() {
		if err := t.logEmbedding(18740, tp); err != nil {
			b.Fatal(err)
		}
	}
}
