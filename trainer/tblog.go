package trainer

// This file holds everything the trainer writes to TensorBoard: the event
// file of a session, the per-step and epoch-end tags (scalars, histograms,
// misclassified digits, confusion matrix, PR curves, the projector entry of
// the last epoch), and the run-once tags (config, the model graph, the
// Custom Scalars layout). Run and endEpoch say when; these functions say
// what. The hparams sessions are in hpsession.go.

import (
	"fmt"
	"image"
	"slices"
	"strconv"
	"strings"

	"github.com/tbtrain/tbtrain/internal/version"
	"github.com/tbtrain/tbtrain/mnist"
	"github.com/tbtrain/tbtrain/model"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// openEvents opens this session's event file in the run directory.
func (t *Trainer) openEvents() error { return t.openEventsAt(t.startStep()) }

// openEventsAt opens this session's event file with its SessionLog START
// at step start.
func (t *Trainer) openEventsAt(start int64) error {
	eo := t.opts.Events
	if eo.FlushInterval == 0 {
		eo.FlushInterval = DefaultFlushInterval
	}
	eo.StartStep = start
	w, err := tbwriter.Create(t.dir, eo)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	t.w = w
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		// PyTorch's SummaryWriter writes no SessionLog START, and
		// TensorBoard's Python loader ignores the first START of a run:
		// the START above may be that first one. A second START at the
		// same step is the one that purges the PyTorch epochs this
		// session replaces (one more START purges nothing new).
		start := &tbpb.Event{Step: eo.StartStep, What: &tbpb.Event_SessionLog{
			SessionLog: &tbpb.SessionLog{Status: tbpb.SessionLog_START}}}
		if err := w.AddEvent(start); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	return nil
}

// startStep is the step of this session's SessionLog START: everything the
// run logged at it and later is replaced by this session.
//
// With the global-step axis, step g's events were synced before the
// checkpoint at g was committed, so a session resuming at g > 0 starts at
// g+1. At step 0 nothing is safe yet: the session starts at 0 and logs the
// run-once tags again (the START at 0 purges whatever an earlier session
// wrote). With PyTorch's epoch axis the session starts at the epoch it
// trains first: its epoch-end tags are not logged yet (they come when it
// ends), and later epochs logged by PyTorch or an abandoned timeline go.
func (t *Trainer) startStep() int64 {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return t.epoch
	}
	if t.step > 0 {
		return t.step + 1
	}
	return 0
}

// firstStep is the step of the run-once tags (config, hparams): 0, or the
// first epoch tbtrain trained for a run continued from PyTorch. A session
// starting there logs them.
func (t *Trainer) firstStep() int64 {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return t.firstEpoch
	}
	return 0
}

// tagStep is the step of the epoch-end tags of the epoch that just ended
// (t.epoch, before it advances): the global step, or the epoch itself on
// PyTorch's axis.
func (t *Trainer) tagStep() int64 {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return t.epoch
	}
	return t.step
}

// logStep writes the tags of every optimizer step at the current step
// (none on PyTorch's epoch axis: a per-step tag there would mix two axes,
// and each session's START would purge it).
func (t *Trainer) logStep(loss float32) error {
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		return nil
	}
	if err := t.w.AddScalar("train/loss_step", t.step, loss); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// logEpoch writes the epoch-end tags of info at the current step, the global
// step that ended epoch info.Epoch; tp is the epoch's test pass.
func (t *Trainer) logEpoch(info EpochInfo, tp *testPass) error {
	s := t.tagStep()
	scalars := []struct {
		tag string
		v   float64
	}{
		{"train/loss", info.TrainLoss},
		{"learning_rate", info.LR},
		{"test/acc", info.TestAcc},
		{"test/loss", info.TestLoss},
		{"epoch", float64(info.Epoch)},
	}
	for _, sc := range scalars {
		if err := t.w.AddScalar(sc.tag, s, float32(sc.v)); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	for _, p := range t.params {
		if err := t.w.AddHistogram("weights/"+p.Name, s, p.Data); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	wrong := tp.wrong
	if len(wrong) > 0 {
		imgs := make([]image.Image, len(wrong))
		for i, w := range wrong {
			imgs[i] = digit(t.test, w.index)
		}
		if err := t.w.AddImage("test/misclassified", s, tbwriter.ImageGrid(imgs, gridCols)); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
		if err := t.w.AddText("test/misclassified_labels", s, misclassifiedText(wrong, gridCols)); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	if err := t.logTestPass(info, tp); err != nil {
		return err
	}
	return nil
}

// Tags of the confusion matrix: the picture (Images tab) and the same
// numbers as a markdown table (Text tab).
const (
	tagConfusion      = "test/confusion"
	tagConfusionTable = "test/confusion_table"
)

// embeddingTag is the projector entry of the penultimate activations; the
// projector lists it as "penultimate:<step, 5 digits at least>".
const embeddingTag = "penultimate"

// prTag returns the tag of the one-vs-rest PR curve of digit d.
func prTag(d int) string { return "pr/" + strconv.Itoa(d) }

// logTestPass writes what the epoch's test pass shows besides its scalars:
// the confusion matrix as an image and as a table, a PR curve per digit and,
// when tp holds penultimate activations (the run's last epoch), the
// projector entry.
func (t *Trainer) logTestPass(info EpochInfo, tp *testPass) error {
	s := t.tagStep()
	title := fmt.Sprintf("%s  epoch %d  step %d  accuracy %.2f%%", tagConfusion, info.Epoch, s, 100*tp.acc)
	if err := t.w.AddImage(tagConfusion, s, paletted(tp.conf.image(title))); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := t.w.AddText(tagConfusionTable, s, tp.conf.markdown()); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := t.logPRCurves(s, tp); err != nil {
		return err
	}
	return t.logEmbedding(s, tp)
}

// logPRCurves writes pr/<d> for each digit d: the precision-recall curve of
// "is it a d?" over the test images, scored by the softmax probability of d
// (tbwriter.DefaultPRThresholds thresholds, as PyTorch's add_pr_curve). The
// probabilities are finite: endEpoch stops a run whose test loss is not
// (a NaN or infinite logit makes the loss so) before anything is logged.
func (t *Trainer) logPRCurves(step int64, tp *testPass) error {
	n := len(tp.labels)
	is := make([]bool, n)
	score := make([]float32, n)
	for d := range model.NumClasses {
		for i, y := range tp.labels {
			is[i] = int(y) == d
			score[i] = tp.probs[i*model.NumClasses+d]
		}
		if err := t.w.AddPRCurve(prTag(d), step, is, score, tbwriter.DefaultPRThresholds); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
	}
	return nil
}

// logEmbedding writes the projector entry of tp's penultimate activations
// (if it holds any): one 84-wide vector per test image, the first --embed of
// the test set, with the columns label, predicted and result
// (correct/wrong), and a sprite of the digits. tbwriter replaces an entry of
// the same tag and step, so a session that redoes the epoch (after a crash,
// or resumed from an earlier checkpoint) replaces its own entry, and every
// file is replaced atomically.
func (t *Trainer) logEmbedding(step int64, tp *testPass) error {
	vecs, md, sprites := t.embeddingOf(tp)
	if len(vecs) == 0 {
		return nil
	}
	if err := t.w.AddEmbedding(embeddingTag, step, vecs, md, sprites); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// embeddingOf returns the projector entry's vectors, metadata and sprites
// of tp's penultimate activations (none if it holds none).
func (t *Trainer) embeddingOf(tp *testPass) ([][]float32, tbwriter.Metadata, []image.Image) {
	k := len(tp.feats) / model.FeatureSize
	if k == 0 {
		return nil, tbwriter.Metadata{}, nil
	}
	vecs := make([][]float32, k)
	rows := make([][]string, k)
	sprites := make([]image.Image, k)
	for i := range k {
		vecs[i] = tp.feats[i*model.FeatureSize : (i+1)*model.FeatureSize]
		y, p := tp.labels[i], tp.pred[i]
		result := "correct"
		if y != p {
			result = "wrong"
		}
		rows[i] = []string{strconv.Itoa(int(y)), strconv.Itoa(int(p)), result}
		sprites[i] = digit(t.test, i)
	}
	return vecs, tbwriter.Metadata{Header: []string{"label", "predicted", "result"}, Rows: rows}, sprites
}

// embedAtEnd writes the projector entry of the epoch that ends the run,
// for a session with nothing left to train that lowered --epochs to the
// epochs done (the longer timeline embedded only at its own last epoch, so
// the Projector would show nothing of this run's end) or changed --embed
// (the entry then shows the first --embed test images; --embed 0 writes
// nothing and leaves an entry there). The test pass is that of the
// restored weights, the model that ends the run, so the entry is what a
// run with that --embed wrote at its end; an entry already there at that
// step is replaced.
func (t *Trainer) embedAtEnd() error {
	if t.cfg.Embed == 0 || t.epoch == 0 {
		return nil
	}
	step := t.step
	if t.convention == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		step = t.epoch - 1 // tagStep of the epoch that ended
	}
	vecs, md, sprites := t.embeddingOf(t.evaluate(int(t.cfg.Embed)))
	if len(vecs) == 0 {
		return nil
	}
	e, err := tbwriter.EmbeddingFiles(embeddingTag, step, vecs, md, sprites)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := tbwriter.WriteEmbedding(t.dir, e); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// dropReplacedEmbeddings removes the run's projector entries at steps this
// session logs again (startStep and later), as its SessionLog START makes
// TensorBoard drop those steps' events: the entry of a session killed
// between its projector files and its commit (this session writes it again,
// the same), or the entries of a timeline the user went back from (resumed
// from an older checkpoint, perhaps with fewer epochs), which would
// otherwise stay in the Projector tab.
func (t *Trainer) dropReplacedEmbeddings() error {
	if err := tbwriter.RemoveEmbeddings(t.dir, embeddingTag, t.startStep()); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// misclassified is a test image the model got wrong.
type misclassified struct {
	index       int
	label, pred uint8
}

// misclassifiedText renders the labels of the image grid as a markdown
// table with the grid's layout: "true→predicted" per digit.
func misclassifiedText(wrong []misclassified, cols int) string {
	var b strings.Builder
	b.WriteString("true→predicted, in the layout of test/misclassified\n\n|")
	for range cols {
		b.WriteString(" |")
	}
	b.WriteString("\n|")
	for range cols {
		b.WriteString("---|")
	}
	for i, w := range wrong {
		if i%cols == 0 {
			b.WriteString("\n|")
		}
		fmt.Fprintf(&b, " %d→%d |", w.label, w.pred)
	}
	b.WriteString("\n")
	return b.String()
}

// digit returns test image i as a 28×28 grey image (white digit on black).
func digit(s *mnist.Set, i int) image.Image {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(img.Pix, s.Images[i*784:(i+1)*784])
	return img
}

// configText is the run's config as a markdown table, followed by the build
// of tbtrain that started the run (see internal/version; each checkpoint
// also records the build that wrote it).
func configText(c Config) string {
	return c.Markdown() + "\nbuilt by: " + version.Current().String() + "\n"
}

// logRunOnce writes the run-once tags at firstStep (sessions that start
// there): the config, the model's graph and the Custom Scalars layout. The
// hparams session has a directory of its own (hpsession.go).
func (t *Trainer) logRunOnce() error {
	s := t.firstStep()
	if err := t.w.AddText("config", s, configText(t.runCfg)); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	// The graph and the layout go at firstStep too (AddGraph and
	// AddCustomScalars would put them at 0): on PyTorch's epoch axis a
	// session's START at firstStep then purges what an earlier session
	// starting there wrote, as for config.
	gd, err := lenetGraph(t.params, t.runCfg.BatchSize).GraphDef()
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	ev, err := tbwriter.GraphEvent(gd)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	ev.Step = s
	if err := t.w.AddEvent(ev); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	layout, err := tbwriter.CustomScalarsValue(scalarsLayout)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := t.w.AddSummary(s, layout); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// scalarsLayout is the Custom Scalars tab of every run: train/loss and
// test/loss on one chart (the mean training loss of each epoch against the
// test loss after it, so over-fitting shows as the curves parting), the test
// accuracy, and the learning rate. The regular expressions are anchored at
// both ends: the plugin matches them from the start of a tag (Python's
// re.match), and train/loss must not pull in train/loss_step.
//
// The tab is chosen over AddScalars sub-runs for the loss pair: AddScalars
// would log the same values a second time into two more run directories
// (<run>/loss_train, <run>/loss_test), which show up as extra runs in every
// tab's run list and need their own event files and purge handling on
// every resume, while the layout is written once at step 0 and draws the
// tags the run logs anyway (the HParams tab needs them under their own
// names).
var scalarsLayout = tbwriter.Layout{Categories: []tbwriter.Category{{
	Title: "training",
	Charts: []tbwriter.Chart{
		{Title: "loss", Multiline: []string{`^train/loss$`, `^test/loss$`}},
		{Title: "accuracy", Multiline: []string{`^test/acc$`}},
		{Title: "learning rate", Multiline: []string{`^learning_rate$`}},
	},
}}}

// graphModule is one module of the PyTorch demo's LeNet-5 (model's doc:
// nn.Sequential convModel and lineNet) for the Graphs tab: its op, the
// shape of its output for one image, and its attributes.
type graphModule struct {
	seq   string // "convModel" or "lineNet"
	index int    // position in the Sequential, which names its parameters
	op    string
	out   []int64 // output shape of one image (the batch dimension is added)
	attrs [][2]any
}

// lenetModules lists LeNet-5 as model's doc describes it: conv 5×5 (pad 2),
// ReLU, 2×2 max pool, conv 5×5, ReLU, max pool, flatten, and three linear
// layers with ReLUs between them.
var lenetModules = []graphModule{
	{"convModel", 0, "Conv2d", []int64{6, 28, 28}, [][2]any{{"kernel_size", []int64{5, 5}}, {"stride", []int64{1, 1}}, {"padding", []int64{2, 2}}}},
	{"convModel", 1, "ReLU", []int64{6, 28, 28}, nil},
	{"convModel", 2, "MaxPool2d", []int64{6, 14, 14}, [][2]any{{"kernel_size", []int64{2, 2}}, {"stride", []int64{2, 2}}}},
	{"convModel", 3, "Conv2d", []int64{16, 10, 10}, [][2]any{{"kernel_size", []int64{5, 5}}, {"stride", []int64{1, 1}}, {"padding", []int64{0, 0}}}},
	{"convModel", 4, "ReLU", []int64{16, 10, 10}, nil},
	{"convModel", 5, "MaxPool2d", []int64{16, 5, 5}, [][2]any{{"kernel_size", []int64{2, 2}}, {"stride", []int64{2, 2}}}},
	{"lineNet", 0, "Flatten", []int64{400}, [][2]any{{"order", "(channel, y, x)"}}},
	{"lineNet", 1, "Linear", []int64{120}, nil},
	{"lineNet", 2, "ReLU", []int64{120}, nil},
	{"lineNet", 3, "Linear", []int64{model.FeatureSize}, nil},
	{"lineNet", 4, "ReLU", []int64{model.FeatureSize}, [][2]any{{"note", "penultimate activations: the vectors of the projector entry \"" + embeddingTag + "\""}}},
	{"lineNet", 5, "Linear", []int64{model.NumClasses}, nil},
}

// lenetGraph returns LeNet-5 as a graph for TensorBoard's Graphs tab, for
// batches of batch images. Each module is a node named
// LeNet5/<Sequential>/<Op>[<index>] (the tab draws LeNet5, convModel and
// lineNet as boxes to open); a module with parameters is a box of its own
// holding the op and its weight and bias, whose shapes come from params
// (the model's own). Edges are labelled with activation shapes; the
// cross-entropy loss takes the logits and the labels.
func lenetGraph(params []model.Param, batch int64) *tbwriter.Graph {
	shapes := map[string][]int{}
	for _, p := range params {
		shapes[p.Name] = p.Shape
	}
	dims := func(s []int) []int64 {
		out := make([]int64, len(s))
		for i, d := range s {
			out[i] = int64(d)
		}
		return out
	}
	g := tbwriter.NewGraph()
	prev := "LeNet5/input"
	g.Node(prev, "Input").OutputShape(batch, 1, 28, 28).Attr("what", "MNIST digits, 28×28, scaled to [0, 1]")
	for _, m := range lenetModules {
		name := fmt.Sprintf("LeNet5/%s/%s[%d]", m.seq, m.op, m.index)
		pname := fmt.Sprintf("%s.%d", m.seq, m.index) // state_dict prefix
		inputs := []string{prev}
		w, hasW := shapes[pname+".weight"]
		if hasW {
			for _, p := range []string{"weight", "bias"} {
				pn := name + "/" + p
				g.Node(pn, "Parameter").OutputShape(dims(shapes[pname+"."+p])...).Attr("state_dict", pname+"."+p)
				inputs = append(inputs, pn)
			}
			name += "/" + strings.ToLower(m.op)
		}
		n := g.Node(name, m.op, inputs...).OutputShape(append([]int64{batch}, m.out...)...)
		switch m.op {
		case "Conv2d":
			n.Attr("in_channels", int64(w[1])).Attr("out_channels", int64(w[0]))
		case "Linear":
			n.Attr("in_features", int64(w[1])).Attr("out_features", int64(w[0]))
		}
		for _, a := range m.attrs {
			n.Attr(a[0].(string), a[1])
		}
		prev = name
	}
	g.Node("LeNet5/labels", "Input").OutputShape(batch).Attr("what", "the true digits")
	g.Node("LeNet5/loss", "CrossEntropyLoss", prev, "LeNet5/labels").OutputShape().Attr("reduction", "mean")
	return g
}

// endCurvesHere makes TensorBoard's curves end at this session's checkpoint
// when the session trains nothing (--epochs lowered to the epochs done):
// otherwise nothing would drop a longer timeline's later points. It writes
// an event file whose START is at the checkpoint's own last logged step p,
// which TensorBoard's Python loader purges from (steps >= p, every tag),
// followed by every point the run shows at p, copied as they are: each
// one, in TensorBoard's Rust data server, drops its tag's points at steps
// >= p (that server ignores START), and in both loaders puts p back.
func (t *Trainer) endCurvesHere() error {
	p := t.startStep() - 1
	if p < 0 {
		return nil
	}
	// The run's own event files only: its hparams session directories and
	// any other directory below it are other runs, and none of them may
	// cost time here or stop the session.
	run, err := tbwriter.ReadRun(t.dir)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	series := run.Series(tbwriter.PythonPurge)
	var tags []string
	later := false
	for tag, pts := range series {
		tags = append(tags, tag)
		if len(pts) > 0 && pts[len(pts)-1].Step > p {
			later = true
		}
	}
	if !later {
		return nil // nothing to drop
	}
	slices.Sort(tags)
	if err := t.openEventsAt(p); err != nil {
		return err
	}
	for _, tag := range tags {
		for _, pt := range series[tag] {
			if pt.Step != p {
				continue
			}
			e := &tbpb.Event{WallTime: pt.WallTime, Step: p, What: &tbpb.Event_Summary{
				Summary: &tbpb.Summary{Value: []*tbpb.Summary_Value{pt.Value}}}}
			if err := t.w.AddEvent(e); err != nil {
				t.w.Close()
				t.w = nil
				return fmt.Errorf("trainer: %w", err)
			}
		}
	}
	err = t.w.Close() // synced: stored before the commit that follows
	t.w = nil
	if err != nil {
		return fmt.Errorf("trainer: closing events: %w", err)
	}
	return nil
}
