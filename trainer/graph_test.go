package trainer

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// shapeOf returns the first output shape of a node.
func shapeOf(n *tbpb.NodeDef) []int64 {
	l := n.GetAttr()[tbwriter.OutputShapesAttr].GetList().GetShape()
	if len(l) == 0 {
		return nil
	}
	var s []int64
	for _, d := range l[0].GetDim() {
		s = append(s, d.GetSize())
	}
	return s
}

// TestLenetGraph checks the Graphs tab's LeNet-5 against the model: every
// parameter appears once with the model's shape, the activation shapes chain
// (each layer's weight fits the shape of what flows in and out), the
// penultimate activations are FeatureSize wide and the logits NumClasses.
func TestLenetGraph(t *testing.T) {
	m := model.NewLeNet5(rand.New(rand.NewPCG(1, 1)))
	const batch = 64
	gd, err := lenetGraph(m.Params(), batch).GraphDef()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*tbpb.NodeDef{}
	for _, n := range gd.GetNode() {
		byName[n.GetName()] = n
	}
	// Parameters: one node each, with the model's shape.
	var params []string
	for _, n := range gd.GetNode() {
		if n.GetOp() == "Parameter" {
			params = append(params, string(n.GetAttr()["state_dict"].GetS()))
		}
	}
	var want []string
	for _, p := range m.Params() {
		want = append(want, p.Name)
	}
	if !slices.Equal(params, want) {
		t.Errorf("parameter nodes %v, want the model's %v", params, want)
	}
	for _, n := range gd.GetNode() {
		if n.GetOp() != "Parameter" {
			continue
		}
		name := string(n.GetAttr()["state_dict"].GetS())
		for _, p := range m.Params() {
			if p.Name == name {
				if got := shapeOf(n); !slices.Equal(got, toInt64(p.Shape)) {
					t.Errorf("%s: shape %v, model %v", name, got, p.Shape)
				}
			}
		}
	}

	// Follow the data from the input to the loss.
	var ops []string
	cur := "LeNet5/input"
	if got := shapeOf(byName[cur]); !slices.Equal(got, []int64{batch, 1, 28, 28}) {
		t.Errorf("input shape %v", got)
	}
	for {
		var next *tbpb.NodeDef
		for _, n := range gd.GetNode() {
			if len(n.GetInput()) > 0 && n.GetInput()[0] == cur {
				if next != nil {
					t.Fatalf("%s feeds both %s and %s", cur, next.GetName(), n.GetName())
				}
				next = n
			}
		}
		if next == nil {
			break
		}
		in, out := shapeOf(byName[cur]), shapeOf(next)
		switch next.GetOp() {
		case "Conv2d":
			w := shapeOf(byName[next.GetInput()[1]])
			k := next.GetAttr()["kernel_size"].GetList().GetI()
			pad := next.GetAttr()["padding"].GetList().GetI()
			if w[1] != in[1] || w[0] != out[1] || w[2] != k[0] || out[2] != in[2]+2*pad[0]-k[0]+1 {
				t.Errorf("%s: weight %v does not map %v to %v (kernel %v, padding %v)", next.GetName(), w, in, out, k, pad)
			}
		case "Linear":
			w := shapeOf(byName[next.GetInput()[1]])
			if w[1] != in[1] || w[0] != out[1] {
				t.Errorf("%s: weight %v does not map %v to %v", next.GetName(), w, in, out)
			}
		case "ReLU":
			if !slices.Equal(in, out) {
				t.Errorf("%s: %v to %v", next.GetName(), in, out)
			}
		case "MaxPool2d":
			if in[1] != out[1] || out[2] != in[2]/2 || out[3] != in[3]/2 {
				t.Errorf("%s: %v to %v", next.GetName(), in, out)
			}
		case "Flatten":
			if out[1] != in[1]*in[2]*in[3] {
				t.Errorf("%s: %v to %v", next.GetName(), in, out)
			}
		case "CrossEntropyLoss":
			if !slices.Equal(in, []int64{batch, model.NumClasses}) || len(out) != 0 || next.GetInput()[1] != "LeNet5/labels" {
				t.Errorf("loss of %v (inputs %v) gives %v", in, next.GetInput(), out)
			}
		}
		if next.GetOp() == "ReLU" && strings.HasPrefix(next.GetName(), "LeNet5/lineNet/ReLU[4]") &&
			!slices.Equal(out, []int64{batch, model.FeatureSize}) {
			t.Errorf("penultimate activations %v, want [%d %d]", out, batch, model.FeatureSize)
		}
		ops = append(ops, next.GetOp())
		cur = next.GetName()
	}
	wantOps := []string{"Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten",
		"Linear", "ReLU", "Linear", "ReLU", "Linear", "CrossEntropyLoss"}
	if !slices.Equal(ops, wantOps) {
		t.Errorf("from input to loss: %v, want %v", ops, wantOps)
	}
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

// TestScalarsLayout: the layout is valid for tbwriter, and each chart's
// regular expressions draw exactly the tags it is meant for among the
// scalar tags the trainer logs (matched from the start, as the plugin's
// re.match does; RE2 and Python agree on these anchored patterns).
func TestScalarsLayout(t *testing.T) {
	if _, err := tbwriter.CustomScalarsValue(scalarsLayout); err != nil {
		t.Fatal(err)
	}
	logged := []string{"train/loss_step", "train/loss", "learning_rate", "test/acc", "test/loss", "epoch"}
	want := map[string][]string{
		"loss":          {"train/loss", "test/loss"},
		"accuracy":      {"test/acc"},
		"learning rate": {"learning_rate"},
	}
	var titles []string
	for _, c := range scalarsLayout.Categories {
		for _, ch := range c.Charts {
			titles = append(titles, ch.Title)
			var got []string
			for _, tag := range logged {
				for _, re := range ch.Multiline {
					if loc := regexp.MustCompile(re).FindStringIndex(tag); loc != nil && loc[0] == 0 {
						got = append(got, tag)
						break
					}
				}
			}
			if !slices.Equal(got, want[ch.Title]) {
				t.Errorf("chart %q draws %v, want %v", ch.Title, got, want[ch.Title])
			}
		}
	}
	if !slices.Equal(titles, []string{"loss", "accuracy", "learning rate"}) {
		t.Errorf("charts %v", titles)
	}
}
