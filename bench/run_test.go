package bench

import (
	"context"
	"testing"

	"github.com/tbtrain/tbtrain/trainer"
)

// BenchmarkRunEpoch measures what a user of cmd/train waits for per epoch:
// a one-epoch run of the default config (batch 64, 937 steps over the
// 60,000 training images) through trainer.New and Run, with everything the
// trainer does around the steps: the per-step scalar, the test pass over the
// 10,000 test images and every epoch-end TensorBoard tag (scalars, weight
// histograms, misclassified digits, confusion matrix, PR curves), the
// checkpoints with their fsyncs, and, since its only epoch is the run's
// last, the projector files of the first 1,000 test images. A default
// 20-epoch run writes those once, so this charges an epoch with twenty
// times its share of them. One untimed run comes first (page cache, CPU
// frequency). img/s counts training images.
func BenchmarkRunEpoch(b *testing.B) {
	train, test := data(b)
	cfg := trainer.DefaultConfig()
	cfg.Epochs = 1
	run := func() {
		t, err := trainer.New(b.TempDir(), cfg, train, test, trainer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := t.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	run()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		run()
	}
	report(b, int(int64(train.Len())/cfg.BatchSize*cfg.BatchSize), cpu0)
}
