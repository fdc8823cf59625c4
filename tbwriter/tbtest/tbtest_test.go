package tbtest_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
	"github.com/tbtrain/tbtrain/tbwriter/tbtest"
)

func TestComparable(t *testing.T) {
	hp := tbwriter.HParams{Values: map[string]any{"lr": 0.01}, Metrics: []string{"test/acc"}}
	early, err := tbwriter.HParamsValues(hp, time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	late, err := tbwriter.HParamsValues(hp, time.Unix(200, 0))
	if err != nil {
		t.Fatal(err)
	}
	for i := range early {
		if proto.Equal(early[i], late[i]) {
			t.Fatalf("value %d: the times should make the raw values differ", i)
		}
		if !proto.Equal(tbtest.Comparable(early[i]), tbtest.Comparable(late[i])) {
			t.Errorf("value %d (%s): differs beyond its wall-clock times", i, early[i].GetTag())
		}
	}
	endA := tbwriter.HParamsSessionEndValue(tbpb.Status_STATUS_SUCCESS, time.Unix(1, 0))
	endB := tbwriter.HParamsSessionEndValue(tbpb.Status_STATUS_SUCCESS, time.Unix(2, 0))
	endF := tbwriter.HParamsSessionEndValue(tbpb.Status_STATUS_FAILURE, time.Unix(1, 0))
	if !proto.Equal(tbtest.Comparable(endA), tbtest.Comparable(endB)) {
		t.Error("session ends differing only in time are not comparable-equal")
	}
	if proto.Equal(tbtest.Comparable(endA), tbtest.Comparable(endF)) {
		t.Error("session ends with different statuses are comparable-equal")
	}

	// Other values are compared whole, and the input is left alone.
	a, b := tbwriter.ScalarValue("loss", 1), tbwriter.ScalarValue("loss", 2)
	if proto.Equal(tbtest.Comparable(a), tbtest.Comparable(b)) {
		t.Error("scalars 1 and 2 are comparable-equal")
	}
	before := proto.Clone(early[0])
	tbtest.Comparable(early[0])
	if !proto.Equal(before, early[0]) {
		t.Error("Comparable modified its argument")
	}
}

func ExampleComparable() {
	hp := tbwriter.HParams{Values: map[string]any{"lr": 0.01}, Metrics: []string{"test/acc"}}
	first, _ := tbwriter.HParamsValues(hp, time.Unix(100, 0))
	again, _ := tbwriter.HParamsValues(hp, time.Unix(200, 0))
	fmt.Println(proto.Equal(first[0], again[0]))
	fmt.Println(proto.Equal(tbtest.Comparable(first[0]), tbtest.Comparable(again[0])))
	// Output:
	// false
	// true
}
