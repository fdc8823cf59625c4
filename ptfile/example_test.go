package ptfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tbtrain/tbtrain/ptfile"
)

// Read the checkpoint dict a PyTorch training script saved, and list what
// it holds.
func ExampleReadCheckpoint() {
	c, err := ptfile.ReadCheckpoint(filepath.Join("..", "testdata", "pytorch-run", "run", "LenetMnist2.pt"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("start_epoch", c.StartEpoch, "optimizer key", c.OptimizerKey)
	for _, nt := range c.Model[:2] {
		fmt.Println(nt.Name, nt.Tensor.DType, nt.Tensor.Shape)
	}
	fmt.Println("momentum", c.Optimizer.Momentum, "T_max", c.Scheduler.TMax)
	// Output:
	// start_epoch 3 optimizer key Optimizer_state_dict
	// convModel.0.weight float32 [6 1 5 5]
	// convModel.0.bias float32 [6]
	// momentum 0.9 T_max 5
}

// A file whose pickle names a global outside the allow-list is refused
// before anything is built; the error names the global.
func ExampleLoad_hostile() {
	_, err := ptfile.Load(filepath.Join("..", "testdata", "pytorch-run", "hostile", "os_system.pt"))
	var fe *ptfile.ForbiddenError
	fmt.Println(errors.Is(err, ptfile.ErrForbidden), errors.As(err, &fe) && fe.Global() == "posix.system")
	// Output:
	// true true
}

// Write tensors for the Hugging Face tools.
func ExampleWriteSafetensors() {
	var buf bytes.Buffer
	err := ptfile.WriteSafetensors(&buf, []ptfile.NamedTensor{
		{Name: "lineNet.5.bias", Tensor: &ptfile.Tensor{Shape: []int{2}, Data: []float32{0.5, -1}}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", buf.Bytes()[8:buf.Len()-8])
	// Output:
	// "{\"__metadata__\":{\"format\":\"pt\"},\"lineNet.5.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}      "
}
