package tbtest

import (
	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// Comparable returns what of a logged value must be identical between two
// runs that logged the same thing at different times: the value itself, or
// for the hparams plugin its decoded data with the experiment's creation
// time and the session start and end times set to zero. v is not modified.
func Comparable(v *tbpb.Summary_Value) proto.Message {
	d, ok := tbwriter.HParamsOf(v)
	if !ok {
		return v
	}
	d = proto.Clone(d).(*tbpb.HParamsPluginData)
	if e := d.GetExperiment(); e != nil {
		e.TimeCreatedSecs = 0
	}
	if s := d.GetSessionStartInfo(); s != nil {
		s.StartTimeSecs = 0
	}
	if s := d.GetSessionEndInfo(); s != nil {
		s.EndTimeSecs = 0
	}
	return d
}
