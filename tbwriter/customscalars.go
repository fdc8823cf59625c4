package tbwriter

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Custom scalars plugin facts, from tensorboard/plugins/custom_scalar/
// metadata.py: PLUGIN_NAME = "custom_scalars", no plugin content, and
// CONFIG_SUMMARY_TAG = "custom_scalars__config__", the tag whose DT_STRING
// tensor holds a serialized Layout (summary.py, pb). dataclass_compat.py
// gives the series DATA_CLASS_TENSOR.
const (
	customScalarsPluginName = "custom_scalars"

	// CustomScalarsTag is the tag of the layout that AddCustomScalars writes.
	CustomScalarsTag = "custom_scalars__config__"
)

// Layout arranges scalar charts in TensorBoard's Custom Scalars tab.
type Layout struct {
	Categories []Category
}

// Category is a collapsible group of charts.
type Category struct {
	Title  string
	Charts []Chart
	// Closed makes the group start collapsed.
	Closed bool
}

// Chart is one chart: either a multiline chart (Multiline set) or a margin
// chart (Margin set), not both.
type Chart struct {
	Title string
	// Multiline holds regular expressions; the chart draws every scalar tag
	// that one of them matches (TensorBoard matches whole tags).
	Multiline []string
	// Margin lists series drawn as a line with a filled band.
	Margin []MarginSeries
}

// MarginSeries names the three exact scalar tags of a margin series.
type MarginSeries struct {
	Value, Lower, Upper string
}

// proto converts l to the plugin's Layout message, checking it.
func (l Layout) proto() (*tbpb.Layout, error) {
	if len(l.Categories) == 0 {
		return nil, fmt.Errorf("tbwriter: custom scalars layout has no categories")
	}
	out := &tbpb.Layout{}
	for ci, c := range l.Categories {
		if !utf8.ValidString(c.Title) {
			return nil, fmt.Errorf("tbwriter: custom scalars category %d: title %q is not valid UTF-8", ci, c.Title)
		}
		if len(c.Charts) == 0 {
			return nil, fmt.Errorf("tbwriter: custom scalars category %q has no charts", c.Title)
		}
		pc := &tbpb.Category{Title: c.Title, Closed: c.Closed}
		for hi, h := range c.Charts {
			where := fmt.Sprintf("custom scalars category %q chart %d (%q)", c.Title, hi, h.Title)
			strs := append([]string{h.Title}, h.Multiline...)
			for _, m := range h.Margin {
				strs = append(strs, m.Value, m.Lower, m.Upper)
			}
			for _, s := range strs {
				if !utf8.ValidString(s) {
					return nil, fmt.Errorf("tbwriter: %s: %q is not valid UTF-8", where, s)
				}
			}
			pch := &tbpb.Chart{Title: h.Title}
			switch {
			case len(h.Multiline) > 0 && len(h.Margin) > 0:
				return nil, fmt.Errorf("tbwriter: %s: both Multiline and Margin set", where)
			case len(h.Multiline) > 0:
				for _, re := range h.Multiline {
					if re == "" {
						return nil, fmt.Errorf("tbwriter: %s: empty tag regular expression", where)
					}
				}
				pch.Content = &tbpb.Chart_Multiline{Multiline: &tbpb.MultilineChartContent{Tag: h.Multiline}}
			case len(h.Margin) > 0:
				mc := &tbpb.MarginChartContent{}
				for _, m := range h.Margin {
					if m.Value == "" || m.Lower == "" || m.Upper == "" {
						return nil, fmt.Errorf("tbwriter: %s: margin series %+v needs all three tags", where, m)
					}
					mc.Series = append(mc.Series, &tbpb.MarginChartContent_Series{Value: m.Value, Lower: m.Lower, Upper: m.Upper})
				}
				pch.Content = &tbpb.Chart_Margin{Margin: mc}
			default:
				return nil, fmt.Errorf("tbwriter: %s: neither Multiline nor Margin set", where)
			}
			pc.Chart = append(pc.Chart, pch)
		}
		out.Category = append(out.Category, pc)
	}
	return out, nil
}

// CustomScalarsValue returns layout as the summary value PyTorch's
// add_custom_scalars writes: tag CustomScalarsTag, a rank-0 DT_STRING tensor
// holding the serialized Layout, plugin "custom_scalars". It returns an
// error for an empty layout, a category without charts, a chart with
// neither or both kinds, an empty regex or margin tag, or invalid UTF-8.
func CustomScalarsValue(layout Layout) (*tbpb.Summary_Value, error) {
	pl, err := layout.proto()
	if err != nil {
		return nil, err
	}
	b, err := proto.Marshal(pl)
	if err != nil {
		return nil, fmt.Errorf("tbwriter: custom scalars layout: %w", err)
	}
	return &tbpb.Summary_Value{
		Tag: CustomScalarsTag,
		Metadata: &tbpb.SummaryMetadata{
			PluginData: &tbpb.SummaryMetadata_PluginData{PluginName: customScalarsPluginName},
			DataClass:  tbpb.DataClass_DATA_CLASS_TENSOR,
		},
		Value: &tbpb.Summary_Value_Tensor{Tensor: &tbpb.TensorProto{
			Dtype:       tbpb.DataType_DT_STRING,
			TensorShape: &tbpb.TensorShapeProto{},
			StringVal:   [][]byte{b},
		}},
	}, nil
}

// AddCustomScalars writes layout for TensorBoard's Custom Scalars tab, at
// step 0 as PyTorch's add_custom_scalars does (so it survives every resume
// at a later step). The tab merges the layouts of all runs; a later call
// replaces this run's layout.
func (w *Writer) AddCustomScalars(layout Layout) error {
	v, err := CustomScalarsValue(layout)
	if err != nil {
		return err
	}
	return w.AddSummary(0, v)
}

// CustomScalarsOf decodes the Layout of a custom scalars value; ok is false
// when v is not one or its string does not decode.
func CustomScalarsOf(v *tbpb.Summary_Value) (l *tbpb.Layout, ok bool) {
	t := v.GetTensor()
	if t.GetDtype() != tbpb.DataType_DT_STRING || len(t.GetStringVal()) != 1 {
		return nil, false
	}
	l = new(tbpb.Layout)
	if err := proto.Unmarshal(t.GetStringVal()[0], l); err != nil {
		return nil, false
	}
	return l, true
}
