package ckptpb_test

import (
	"fmt"
	"log"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

func Example() {
	c := &ckptpb.Checkpoint{
		FormatVersion: 1,
		Model:         "lenet5-mnist",
		Epoch:         3,
		GlobalStep:    3750,
		Params: []*ckptpb.Tensor{
			{Name: "lineNet.5.bias", Shape: []int64{10}, Data: make([]float32, 10)},
		},
		Config: &ckptpb.Config{Epochs: 20, BatchSize: 64, Lr: 0.01, Seed: 1},
	}
	b, err := proto.Marshal(c)
	if err != nil {
		log.Fatal(err)
	}
	var back ckptpb.Checkpoint
	if err := proto.Unmarshal(b, &back); err != nil {
		log.Fatal(err)
	}
	fmt.Println(proto.Equal(c, &back), back.GetModel(), back.GetGlobalStep(), back.GetConfig().GetBatchSize())
	// Output:
	// true lenet5-mnist 3750 64
}
