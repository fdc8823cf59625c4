//go:build unix

package chaos

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// scalarOf returns the float value of a scalar summary, whether it is stored
// the TF1 way (simple_value) or the TF2 way (a DT_FLOAT scalar tensor, as
// tensorboard/plugins/scalar/summary_v2.py writes it).
func scalarOf(v *tbpb.Summary_Value) float32 {
	if tp := v.GetTensor(); tp != nil {
		if f := tp.GetFloatVal(); len(f) > 0 {
			return f[0]
		}
		if b := tp.GetTensorContent(); len(b) >= 4 {
			return math.Float32frombits(binary.LittleEndian.Uint32(b))
		}
		if d := tp.GetDoubleVal(); len(d) > 0 {
			return float32(d[0])
		}
	}
	return v.GetSimpleValue()
}

// isScalar reports whether v is a scalar summary.
func isScalar(v *tbpb.Summary_Value) bool {
	if _, ok := v.GetValue().(*tbpb.Summary_Value_SimpleValue); ok {
		return true
	}
	return v.GetMetadata().GetPluginData().GetPluginName() == "scalars"
}

// compareSeries checks that run got has, under rule, exactly the tags of
// want, each step exactly once, with the same steps and values. Scalars are
// compared bit for bit; other summaries (histograms, images, text) with
// proto.Equal, except the hparams plugin's (they hold wall-clock times) and
// tags for which skipValue is true. It returns one line per problem.
func compareSeries(got, want map[string][]tbwriter.Point, skipValue func(tag string) bool) []string {
	var probs []string
	tags := func(m map[string][]tbwriter.Point) []string {
		var ts []string
		for k := range m {
			ts = append(ts, k)
		}
		slices.Sort(ts)
		return ts
	}
	if g, w := tags(got), tags(want); !slices.Equal(g, w) {
		probs = append(probs, fmt.Sprintf("tags: got %v, want %v", g, w))
	}
	for _, tag := range tags(want) {
		gp, wp := got[tag], want[tag]
		if dup := duplicateSteps(gp); len(dup) > 0 {
			probs = append(probs, fmt.Sprintf("tag %s: steps %v appear more than once", tag, dup))
		}
		gs, ws := stepsOf(gp), stepsOf(wp)
		if !slices.Equal(gs, ws) {
			probs = append(probs, fmt.Sprintf("tag %s: steps differ from the reference run: %s", tag, diffSteps(gs, ws)))
			continue
		}
		if skipValue != nil && skipValue(tag) {
			continue
		}
		if len(wp) > 0 && wp[0].Value.GetMetadata().GetPluginData().GetPluginName() == "hparams" {
			continue
		}
		for i := range wp {
			g, w := gp[i].Value, wp[i].Value
			if isScalar(w) {
				if gb, wb := math.Float32bits(scalarOf(g)), math.Float32bits(scalarOf(w)); gb != wb {
					probs = append(probs, fmt.Sprintf("tag %s step %d: value %v (bits %#08x), reference %v (bits %#08x)",
						tag, wp[i].Step, scalarOf(g), gb, scalarOf(w), wb))
				}
				continue
			}
			if !proto.Equal(g, w) {
				probs = append(probs, fmt.Sprintf("tag %s step %d: summary differs from the reference run", tag, wp[i].Step))
			}
		}
	}
	return probs
}

func stepsOf(ps []tbwriter.Point) []int64 {
	s := make([]int64, len(ps))
	for i, p := range ps {
		s[i] = p.Step
	}
	return s
}

func duplicateSteps(ps []tbwriter.Point) []int64 {
	seen := map[int64]int{}
	var dup []int64
	for _, p := range ps {
		seen[p.Step]++
		if seen[p.Step] == 2 {
			dup = append(dup, p.Step)
		}
	}
	return dup
}

// diffSteps describes how two step lists differ, briefly.
func diffSteps(got, want []int64) string {
	inGot := map[int64]bool{}
	for _, s := range got {
		inGot[s] = true
	}
	inWant := map[int64]bool{}
	for _, s := range want {
		inWant[s] = true
	}
	var missing, extra []string
	for _, s := range want {
		if !inGot[s] {
			missing = append(missing, fmt.Sprint(s))
		}
	}
	for _, s := range got {
		if !inWant[s] {
			extra = append(extra, fmt.Sprint(s))
		}
	}
	short := func(v []string) string {
		if len(v) > 20 {
			return strings.Join(v[:20], " ") + fmt.Sprintf(" ... (%d in all)", len(v))
		}
		return strings.Join(v, " ")
	}
	return fmt.Sprintf("%d points vs %d; missing [%s]; extra [%s]; order %v", len(got), len(want), short(missing), short(extra), slices.IsSorted(got))
}
