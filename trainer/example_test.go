package trainer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/trainer"
)

// The learning rate of each epoch of the default 20-epoch schedule.
func ExampleCosineLR() {
	for _, e := range []int64{0, 1, 10, 19, 20} {
		fmt.Printf("epoch %2d: %.6f\n", e, trainer.CosineLR(0.01, 1e-4, 20, e))
	}
	// Output:
	// epoch  0: 0.010000
	// epoch  1: 0.009939
	// epoch 10: 0.005050
	// epoch 19: 0.000161
	// epoch 20: 0.000100
}

// Two SGD steps with momentum 0.9 on one parameter: the first step uses the
// gradient itself, the second 0.9·buf + grad.
func ExampleSGD() {
	p := []float32{1}
	opt := trainer.NewSGD(0.9, []int{1})
	opt.Step([][]float32{p}, [][]float32{{0.5}}, 0.1) // p = 1 - 0.1·0.5
	fmt.Println(p[0], opt.Buffers()[0][0])
	opt.Step([][]float32{p}, [][]float32{{0.5}}, 0.1) // buf = 0.9·0.5 + 0.5; p = 0.95 - 0.1·0.95 in float32
	fmt.Println(p[0], opt.Buffers()[0][0])
	// Output:
	// 0.95 0.5
	// 0.85499996 0.95
}

// Train, stop in the middle of an epoch, and resume from the newest
// checkpoint of the run. (The data here are small synthetic digits; the
// command cmd/train loads MNIST.)
func Example() {
	logdir, err := os.MkdirTemp("", "trainer-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(logdir)

	cfg := trainer.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LimitTrain = 2, 16, 160 // 10 steps per epoch

	// Stop after global step 13, as a Ctrl-C would.
	ctx, cancel := context.WithCancel(context.Background())
	opts := trainer.Options{Step: func(s trainer.StepInfo) {
		if s.Step == 13 {
			cancel()
		}
	}}
	t, err := trainer.New(logdir, cfg, trainSet, testSet, opts)
	if err != nil {
		panic(err)
	}
	err = t.Run(ctx)
	var ie *trainer.InterruptedError
	if errors.As(err, &ie) {
		fmt.Println("stopped; checkpoint", filepath.Base(ie.Checkpoint))
	}

	// Resume: the newest valid checkpoint under logdir, with its config.
	c, path, _, err := trainer.Locate(trainer.Latest, logdir)
	if err != nil {
		panic(err)
	}
	rcfg, err := trainer.ResumeConfig(c, path, trainer.Config{}, nil)
	if err != nil {
		panic(err)
	}
	t, err = trainer.Resume(path, c, rcfg, trainSet, testSet, trainer.Options{})
	if err != nil {
		panic(err)
	}
	e, step, b := t.Position()
	fmt.Printf("resuming in epoch %d at batch %d, global step %d\n", e, b, step)
	if err := t.Run(context.Background()); err != nil {
		panic(err)
	}
	for _, h := range t.History() {
		fmt.Printf("epoch %d ended at step %d with lr %.4f\n", h.Epoch, h.Step, h.LR)
	}
	// Output:
	// stopped; checkpoint LenetMnist1-step13.ckpt
	// resuming in epoch 1 at batch 3, global step 13
	// epoch 0 ended at step 10 with lr 0.0100
	// epoch 1 ended at step 20 with lr 0.0051
}
