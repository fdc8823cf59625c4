package ckpt_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

func Example() {
	dir, err := os.MkdirTemp("", "ckpt-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Three epoch-end checkpoints, each committed atomically and pruned to 2.
	for epoch := range int64(3) {
		c := &ckptpb.Checkpoint{
			FormatVersion: ckpt.FormatVersion,
			Model:         "lenet5-mnist",
			Epoch:         epoch + 1,
			GlobalStep:    (epoch + 1) * 937,
			Params:        []*ckptpb.Tensor{{Name: "w", Shape: []int64{2}, Data: []float32{0.5, -0.25}}},
		}
		path := filepath.Join(dir, fmt.Sprintf("LenetMnist%d.ckpt", epoch))
		if err := ckpt.Save(path, c); err != nil {
			log.Fatal(err)
		}
		if err := ckpt.Prune(dir, ckpt.PruneOptions{Keep: 2}); err != nil {
			log.Fatal(err)
		}
	}

	// A damaged file is reported, and the newest valid checkpoint is used.
	if err := os.WriteFile(filepath.Join(dir, "LenetMnist3.ckpt"), []byte("garbage"), 0o644); err != nil {
		log.Fatal(err)
	}
	c, path, skipped, err := ckpt.Newest(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resume from", filepath.Base(path), "at step", c.GetGlobalStep(), "epoch", c.GetEpoch())
	for _, err := range skipped {
		fmt.Println("skipped:", filepath.Base(err.(*ckpt.Error).Path))
	}
	list, err := ckpt.List(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range list {
		fmt.Println(filepath.Base(e.Path), e.Step, e.Valid())
	}
	// Output:
	// resume from LenetMnist2.ckpt at step 2811 epoch 3
	// skipped: LenetMnist3.ckpt
	// LenetMnist3.ckpt 0 false
	// LenetMnist1.ckpt 1874 true
	// LenetMnist2.ckpt 2811 true
}
