package tbpb_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Example builds the scalar event that one training step logs, serializes it
// (the payload of one event-file record) and reads it back.
func Example() {
	ev := &tbpb.Event{
		WallTime: 1700000000.5,
		Step:     100,
		What: &tbpb.Event_Summary{Summary: &tbpb.Summary{Value: []*tbpb.Summary_Value{{
			Tag:   "train/loss",
			Value: &tbpb.Summary_Value_SimpleValue{SimpleValue: 0.125},
		}}}},
	}
	payload, err := proto.Marshal(ev)
	if err != nil {
		panic(err)
	}

	var back tbpb.Event
	if err := proto.Unmarshal(payload, &back); err != nil {
		panic(err)
	}
	for _, v := range back.GetSummary().GetValue() {
		fmt.Printf("step %d %s = %g\n", back.GetStep(), v.GetTag(), v.GetSimpleValue())
	}
	fmt.Println("equal:", proto.Equal(ev, &back))
	// Output:
	// step 100 train/loss = 0.125
	// equal: true
}
