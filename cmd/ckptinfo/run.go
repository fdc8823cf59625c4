package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/jsonfloat"
	"github.com/tbtrain/tbtrain/internal/version"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/storage"
)

// run is the whole command: it parses args, inspects each path and writes
// the report to stdout. It returns a usageError for a bad command line, and
// an error when any checkpoint fails verification or a path cannot be read.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	registerStores()
	flags := pflag.NewFlagSet("ckptinfo", pflag.ContinueOnError)
	flags.SetOutput(io.Discard)
	asJSON := flags.Bool("json", false, "print JSON (one object holding every report) instead of text")
	export := flags.String("export", "", "write the checkpoint to `OUT` for PyTorch: OUT.pt (torch.save dict the demo recipe resumes) or OUT.safetensors (the weights)")
	tensors := flags.Bool("tensors", false, "add per-tensor statistics (count, min, max, mean, L2 norm, non-finite values)")
	showVersion := flags.Bool("version", false, "print the module version and VCS revision of this binary")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printUsage(stdout, flags)
			return err
		}
		return usageError{fmt.Errorf("%v (see ckptinfo --help)", err)}
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Line("ckptinfo"))
		return nil
	}
	paths := flags.Args()
	if *export != "" {
		if len(paths) != 1 || paths[0] == "-" {
			return usageError{fmt.Errorf("--export %s takes exactly one checkpoint file (see ckptinfo --help)", *export)}
		}
		return exportTo(*export, paths[0], stdout)
	}
	if len(paths) == 0 {
		paths = []string{"-"}
	}

	var out output
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch st, err := storage.Stat(context.Background(), p); {
		case p == "-":
			b, err := io.ReadAll(io.LimitReader(stdin, int64(maxStdin)+1))
			r := report{Path: "-", Size: int64(len(b))}
			var c *ckptpb.Checkpoint
			switch {
			case err != nil:
			case len(b) > maxStdin:
				// Decode would judge a cut stream; only its start (the
				// header: is it a checkpoint at all?) is worth judging.
				if _, err = ckpt.Decode(b[:min(len(b), ckpt.Overhead)]); !errors.Is(err, ckpt.ErrNotCheckpoint) {
					err = fmt.Errorf("%w: standard input holds more than %d bytes, more than any checkpoint", ckpt.ErrCorrupt, maxStdin)
				}
			default:
				c, err = ckpt.Decode(b)
			}
			r.fill(c, err, *tensors)
			out.Files = append(out.Files, r)
		case err == nil && st.Dir:
			out.Dirs = append(out.Dirs, listDir(p, *tensors))
		default:
			out.Files = append(out.Files, inspect(p, *tensors))
		}
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		var b strings.Builder
		for i, r := range out.Files {
			if i > 0 {
				b.WriteString("\n")
			}
			r.writeText(&b)
		}
		for i, d := range out.Dirs {
			if i > 0 || len(out.Files) > 0 {
				b.WriteString("\n")
			}
			d.writeText(&b)
		}
		if _, err := io.WriteString(stdout, b.String()); err != nil {
			return err
		}
	}
	return out.err()
}

// maxStdin is how much of standard input is read: no checkpoint is longer
// (ckpt.MaxSize), so an endless stream (ckptinfo < /dev/zero) costs bounded
// memory. A variable so that tests can lower it.
var maxStdin = ckpt.MaxSize

// output is everything one invocation reports.
type output struct {
	Files []report    `json:"files,omitempty"`
	Dirs  []dirReport `json:"dirs,omitempty"`
}

// err summarises the failures, or returns nil if every checkpoint verified.
func (o output) err() error {
	bad, total := 0, 0
	for _, r := range o.Files {
		total++
		if !r.OK {
			bad++
		}
	}
	for _, d := range o.Dirs {
		if d.Error != "" {
			return fmt.Errorf("%s: %s", d.Path, d.Error)
		}
		total += len(d.Checkpoints)
		for _, r := range d.Checkpoints {
			if !r.OK {
				bad++
			}
		}
		if len(d.Checkpoints) == 0 {
			return fmt.Errorf("%s: no checkpoint files (*%s)", d.Path, ckpt.Ext)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d checkpoints failed verification", bad, total)
	}
	return nil
}

// report describes one checkpoint file.
type report struct {
	Path       string    `json:"path"`
	OK         bool      `json:"ok"`
	Problem    string    `json:"problem,omitempty"` // not_checkpoint, truncated, corrupt, version, invalid, missing, unreadable
	Error      string    `json:"error,omitempty"`
	Size       int64     `json:"size"`
	Aside      bool      `json:"aside,omitempty"` // named by an unfinished set-aside (ckpt.SetAside): never the newest
	Checkpoint *summary  `json:"checkpoint,omitempty"`
	Tensors    []tensor  `json:"tensors,omitempty"`
	when       time.Time // commit time, for text output
}

// summary is the content of a checkpoint without the bulk tensor data.
type summary struct {
	FormatVersion uint32 `json:"format_version"`
	Model         string `json:"model"`
	Kernel        string `json:"kernel"`
	RunID         string `json:"run_id"`                // "" for checkpoints written before run IDs
	HParamsRun    string `json:"hparams_run,omitempty"` // the run's TensorBoard hparams session directory
	Build         *build `json:"build,omitempty"`       // absent in checkpoints written before builds were recorded
	Epoch         int64  `json:"epoch"`
	GlobalStep    int64  `json:"global_step"`
	// StepConvention is "epoch" for a run continued from a PyTorch
	// checkpoint (its epoch-end tags at step = epoch), absent for tbtrain's
	// global-step axis; FirstEpoch is the first epoch trained in tbtrain
	// (the PyTorch file's start_epoch; absent for a run tbtrain started).
	StepConvention string          `json:"step_convention,omitempty"`
	FirstEpoch     int64           `json:"first_epoch,omitempty"`
	BatchInEpoch   int64           `json:"batch_in_epoch"`
	UnixNano       int64           `json:"unix_nano"`
	Committed      string          `json:"committed"`
	EpochLossSum   jsonfloat.Float `json:"epoch_loss_sum"`
	Params         int             `json:"param_tensors"`
	Values         int             `json:"param_values"`
	Optimizer      optimizer       `json:"optimizer"`
	Scheduler      scheduler       `json:"scheduler"`
	RNGStateBytes  int             `json:"rng_state_bytes"`
	Config         config          `json:"config"`
	History        []epochMetrics  `json:"history"`
}

type optimizer struct {
	LR             jsonfloat.Float `json:"lr"`
	Momentum       jsonfloat.Float `json:"momentum"`
	HasBuffers     bool            `json:"has_buffers"`
	MomentumBuffer int             `json:"momentum_buffers"`
}

type scheduler struct {
	BaseLR    jsonfloat.Float `json:"base_lr"`
	EtaMin    jsonfloat.Float `json:"eta_min"`
	TMax      int64           `json:"t_max"`
	LastEpoch int64           `json:"last_epoch"`
	// Anchor is set for a schedule continued from PyTorch's
	// CosineAnnealingLR: the rate of its first epoch, which PyTorch's
	// scheduler had set; later epochs follow PyTorch's recursive update.
	Anchor *anchor `json:"anchor,omitempty"`
}

type anchor struct {
	Epoch int64           `json:"epoch"`
	LR    jsonfloat.Float `json:"lr"`
}

type config struct {
	Epochs         int64           `json:"epochs"`
	BatchSize      int64           `json:"batch_size"`
	LR             jsonfloat.Float `json:"lr"`
	Momentum       jsonfloat.Float `json:"momentum"`
	EtaMin         jsonfloat.Float `json:"eta_min"`
	Seed           uint64          `json:"seed"`
	LimitTrain     int64           `json:"limit_train"`
	LimitTest      int64           `json:"limit_test"`
	SaveEverySteps int64           `json:"save_every_steps"`
	SaveEveryNanos int64           `json:"save_every_nanos"`
	Keep           int64           `json:"keep"`
	KeepBest       int64           `json:"keep_best"`
	Embed          int64           `json:"embed"`
	Data           string          `json:"data"`
}

type epochMetrics struct {
	Epoch     int64           `json:"epoch"`
	Step      int64           `json:"step"`
	TrainLoss jsonfloat.Float `json:"train_loss"`
	TestLoss  jsonfloat.Float `json:"test_loss"`
	TestAcc   jsonfloat.Float `json:"test_acc"`
	LR        jsonfloat.Float `json:"lr"`
	Seconds   jsonfloat.Float `json:"seconds"`
}

// tensor holds statistics of one parameter tensor. Non-finite values are
// counted and left out of the other statistics.
type tensor struct {
	Name      string          `json:"name"`
	Shape     []int64         `json:"shape"`
	Count     int             `json:"count"`
	Min       jsonfloat.Float `json:"min"`
	Max       jsonfloat.Float `json:"max"`
	Mean      jsonfloat.Float `json:"mean"`
	L2        jsonfloat.Float `json:"l2"`
	NonFinite int             `json:"non_finite"`
}

// inspect loads and describes the checkpoint at path.
func inspect(path string, withTensors bool) report {
	r := report{Path: path}
	if st, err := storage.Stat(context.Background(), path); err == nil {
		r.Size = st.Size
	}
	c, err := ckpt.Load(path)
	r.fill(c, err, withTensors)
	return r
}

// fill records the outcome of loading a checkpoint.
func (r *report) fill(c *ckptpb.Checkpoint, err error, withTensors bool) {
	if err != nil {
		r.Problem = problem(err)
		var ce *ckpt.Error
		if errors.As(err, &ce) {
			err = ce.Err // the path is already in the report
		}
		r.Error = err.Error()
		return
	}
	r.OK = true
	r.when = time.Unix(0, c.GetUnixNano()).UTC()
	s := &summary{
		FormatVersion: c.GetFormatVersion(),
		Model:         c.GetModel(),
		Kernel:        c.GetKernel(),
		Epoch:         c.GetEpoch(),
		GlobalStep:    c.GetGlobalStep(),
		BatchInEpoch:  c.GetBatchInEpoch(),
		UnixNano:      c.GetUnixNano(),
		Committed:     r.when.Format(time.RFC3339Nano),
		EpochLossSum:  jsonfloat.Float(c.GetEpochLossSum()),
		RunID:         c.GetRunId(),
		HParamsRun:    c.GetHparamsRun(),
		Build:         buildOf(c.GetBuild()),
		Params:        len(c.GetParams()),
		RNGStateBytes: len(c.GetRngState()),
	}
	for _, t := range c.GetParams() {
		s.Values += len(t.GetData())
	}
	o := c.GetOptimizer()
	s.Optimizer = optimizer{jsonfloat.Float(o.GetLr()), jsonfloat.Float(o.GetMomentum()), o.GetHasBuffers(), len(o.GetMomentumBuffer())}
	sc := c.GetScheduler()
	s.Scheduler = scheduler{BaseLR: jsonfloat.Float(sc.GetBaseLr()), EtaMin: jsonfloat.Float(sc.GetEtaMin()), TMax: sc.GetTMax(), LastEpoch: sc.GetLastEpoch()}
	if sc.GetHasAnchor() {
		s.Scheduler.Anchor = &anchor{sc.GetAnchorEpoch(), jsonfloat.Float(sc.GetAnchorLr())}
	}
	if c.GetStepConvention() == ckptpb.StepConvention_STEP_CONVENTION_EPOCH {
		s.StepConvention = "epoch"
	}
	s.FirstEpoch = c.GetFirstEpoch()
	cf := c.GetConfig()
	s.Config = config{cf.GetEpochs(), cf.GetBatchSize(), jsonfloat.Float(cf.GetLr()), jsonfloat.Float(cf.GetMomentum()), jsonfloat.Float(cf.GetEtaMin()), cf.GetSeed(),
		cf.GetLimitTrain(), cf.GetLimitTest(), cf.GetSaveEverySteps(), cf.GetSaveEveryNanos(), cf.GetKeep(), cf.GetKeepBest(),
		cf.GetEmbed(), cf.GetData()}
	s.History = []epochMetrics{}
	for _, h := range c.GetHistory() {
		s.History = append(s.History, epochMetrics{h.GetEpoch(), h.GetStep(), jsonfloat.Float(h.GetTrainLoss()), jsonfloat.Float(h.GetTestLoss()),
			jsonfloat.Float(h.GetTestAcc()), jsonfloat.Float(h.GetLr()), jsonfloat.Float(h.GetSeconds())})
	}
	r.Checkpoint = s
	if withTensors {
		for _, t := range c.GetParams() {
			r.Tensors = append(r.Tensors, stats(t, ""))
		}
		for _, t := range o.GetMomentumBuffer() {
			r.Tensors = append(r.Tensors, stats(t, "momentum:"))
		}
	}
}

// stats summarises a tensor.
func stats(t *ckptpb.Tensor, prefix string) tensor {
	s := tensor{Name: prefix + t.GetName(), Shape: t.GetShape(), Count: len(t.GetData())}
	if s.Shape == nil {
		s.Shape = []int64{}
	}
	var sum, sq float64
	n := 0
	for _, v := range t.GetData() {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			s.NonFinite++
			continue
		}
		if n == 0 || f < float64(s.Min) {
			s.Min = jsonfloat.Float(f)
		}
		if n == 0 || f > float64(s.Max) {
			s.Max = jsonfloat.Float(f)
		}
		sum += f
		sq += f * f
		n++
	}
	if n > 0 {
		s.Mean = jsonfloat.Float(sum / float64(n))
	}
	s.L2 = jsonfloat.Float(math.Sqrt(sq))
	return s
}

// problem classifies a load error for the report.
func problem(err error) string {
	for _, p := range []struct {
		err  error
		name string
	}{
		{ckpt.ErrNotCheckpoint, "not_checkpoint"},
		{ckpt.ErrTruncated, "truncated"},
		{ckpt.ErrCorrupt, "corrupt"},
		{ckpt.ErrVersion, "version"},
		{ckpt.ErrInvalid, "invalid"},
		{fs.ErrNotExist, "missing"},
	} {
		if errors.Is(err, p.err) {
			return p.name
		}
	}
	return "unreadable"
}

// dirReport lists the checkpoints of a directory.
type dirReport struct {
	Path        string   `json:"path"`
	Error       string   `json:"error,omitempty"`
	Checkpoints []report `json:"checkpoints"`
	TempFiles   []string `json:"temp_files,omitempty"` // debris of interrupted commits
}

// listDir describes every checkpoint of dir in ckpt.List order.
func listDir(dir string, withTensors bool) dirReport {
	d := dirReport{Path: dir, Checkpoints: []report{}}
	list, err := ckpt.List(dir)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	for _, e := range list {
		r := inspect(e.Path, withTensors)
		r.Aside = e.Aside
		d.Checkpoints = append(d.Checkpoints, r)
	}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if ckpt.IsTemp(e.Name()) {
				d.TempFiles = append(d.TempFiles, e.Name())
			}
		}
	}
	return d
}

// table returns a writer that aligns tab-separated cells; flush it when done.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// writeText prints one checkpoint report as aligned "key value" lines,
// followed by the history and tensor tables.
func (r report) writeText(out io.Writer) {
	w := table(out)
	defer func() { w.Flush() }() // w is replaced by each table below
	kv := func(k, f string, a ...any) { fmt.Fprintf(w, "%s\t"+f+"\n", append([]any{k}, a...)...) }
	name := r.Path
	if name == "-" {
		name = "<stdin>"
	}
	kv("file", "%s (%d bytes)", name, r.Size)
	if !r.OK {
		kv("integrity", "FAILED (%s): %s", r.Problem, r.Error)
		return
	}
	s := r.Checkpoint
	kv("integrity", "OK (magic, header and payload CRC-32C, format version %d, content consistent)", s.FormatVersion)
	kv("model", "%s (kernel %s)", s.Model, orDash(s.Kernel))
	kv("run", "%s", runLabel(s.RunID))
	if s.HParamsRun != "" {
		kv("hparams", "session directory %s", s.HParamsRun)
	}
	kv("written by", "%s", s.Build.label())
	where := "start of the epoch"
	if s.BatchInEpoch > 0 {
		where = fmt.Sprintf("%d batches done in it", s.BatchInEpoch)
	}
	kv("position", "epoch %d (%s), global step %d", s.Epoch, where, s.GlobalStep)
	if s.StepConvention == "epoch" {
		kv("step axis", "epoch: the epoch tags at step = epoch (PyTorch's convention, kept by every resume)")
	}
	if s.FirstEpoch > 0 {
		kv("continued", "from a PyTorch checkpoint at epoch %d (epochs 0-%d trained by PyTorch; history from %d on)",
			s.FirstEpoch, s.FirstEpoch-1, s.FirstEpoch)
	}
	kv("committed", "%s", r.when.Format(time.RFC3339))
	kv("params", "%d tensors, %d values", s.Params, s.Values)
	kv("optimizer", "SGD lr %g, momentum %g, momentum buffers %s", s.Optimizer.LR, s.Optimizer.Momentum, yesNo(s.Optimizer.HasBuffers, s.Optimizer.MomentumBuffer))
	kv("scheduler", "cosine base_lr %g, eta_min %g, T_max %d, last_epoch %d", s.Scheduler.BaseLR, s.Scheduler.EtaMin, s.Scheduler.TMax, s.Scheduler.LastEpoch)
	if a := s.Scheduler.Anchor; a != nil {
		kv("", "continues PyTorch's CosineAnnealingLR: lr %v at epoch %d (PyTorch's), its recursive update after", float64(a.LR), a.Epoch)
	}
	kv("rng state", "%d bytes", s.RNGStateBytes)
	kv("epoch loss sum", "%g", s.EpochLossSum)
	c := s.Config
	kv("config", "epochs %d, batch size %d, lr %g, momentum %g, eta_min %g, seed %d", c.Epochs, c.BatchSize, c.LR, c.Momentum, c.EtaMin, c.Seed)
	kv("", "limit train %d, limit test %d, keep %d, keep best %d, embed %d, data %s", c.LimitTrain, c.LimitTest,
		c.Keep, c.KeepBest, c.Embed, orDash(c.Data))
	kv("", "mid-epoch checkpoints: %s", midEpochText(c.SaveEverySteps, c.SaveEveryNanos))
	if len(s.History) == 0 {
		kv("history", "no completed epoch")
		return
	}
	w.Flush()
	fmt.Fprintln(out, "history")
	w = table(out)
	fmt.Fprintln(w, "  epoch\tstep\ttrain loss\ttest loss\ttest acc\tlr\tseconds")
	for _, h := range s.History {
		fmt.Fprintf(w, "  %d\t%d\t%.6f\t%.6f\t%.4f\t%.6g\t%.1f\n", h.Epoch, h.Step, h.TrainLoss, h.TestLoss, h.TestAcc, h.LR, h.Seconds)
	}
	if len(r.Tensors) == 0 {
		return
	}
	w.Flush()
	fmt.Fprintln(out, "tensors")
	w = table(out)
	fmt.Fprintln(w, "  name\tshape\tcount\tmin\tmax\tmean\tL2\tnon-finite")
	for _, t := range r.Tensors {
		fmt.Fprintf(w, "  %s\t%v\t%d\t%.6g\t%.6g\t%.6g\t%.6g\t%d\n", t.Name, t.Shape, t.Count, t.Min, t.Max, t.Mean, t.L2, t.NonFinite)
	}
}

// writeText prints a directory listing as a table, then any temp files.
func (d dirReport) writeText(out io.Writer) {
	fmt.Fprintf(out, "directory %s\n", d.Path)
	switch {
	case d.Error != "":
		fmt.Fprintf(out, "  error: %s\n", d.Error)
		return
	case len(d.Checkpoints) == 0:
		fmt.Fprintf(out, "  no checkpoint files (*%s)\n", ckpt.Ext)
	default:
		w := table(out)
		fmt.Fprintln(w, "  status\tstep\tepoch\tbatch\trun\tsize\tcommitted\tfile")
		for _, r := range d.Checkpoints {
			base := filepath.Base(r.Path)
			if !r.OK {
				fmt.Fprintf(w, "  %s\t-\t-\t-\t-\t%d\t-\t%s: %s\n", strings.ToUpper(r.Problem), r.Size, base, r.Error)
				continue
			}
			s := r.Checkpoint
			status := "ok"
			if r.Aside {
				status = "aside"
			}
			fmt.Fprintf(w, "  %s\t%d\t%d\t%d\t%s\t%d\t%s\t%s\n", status, s.GlobalStep, s.Epoch, s.BatchInEpoch, shortRun(s.RunID), r.Size, r.when.Format(time.RFC3339), base)
		}
		w.Flush()
	}
	aside := 0
	for _, r := range d.Checkpoints {
		if r.Aside {
			aside++
		}
	}
	if aside > 0 {
		fmt.Fprintf(out, "  %d checkpoint(s) of an abandoned timeline whose set-aside was interrupted (never resumed by a directory or latest; renamed by the next resume)\n", aside)
	}
	if len(d.TempFiles) > 0 {
		fmt.Fprintf(out, "  %d temp file(s) of interrupted commits (ignored; removed on resume): %s\n",
			len(d.TempFiles), strings.Join(d.TempFiles, " "))
	}
}

// runLabel shows a run ID, or says that the checkpoint predates run IDs.
func runLabel(id string) string {
	if id == "" {
		return "- (written before run IDs)"
	}
	return id
}

// shortRun shows the first 8 hex digits of a run ID in directory listings
// (enough to tell a directory's runs apart; the file view shows all 32).
func shortRun(id string) string {
	if id == "" {
		return "-"
	}
	return id[:min(8, len(id))]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(has bool, n int) string {
	if !has {
		return "none yet"
	}
	return fmt.Sprintf("%d", n)
}

// build is the build of tbtrain that wrote a checkpoint (ckptpb.Build).
type build struct {
	ModuleVersion string `json:"module_version"`
	VCSRevision   string `json:"vcs_revision"`
	VCSTime       string `json:"vcs_time"`
	VCSModified   bool   `json:"vcs_modified"`
	GoVersion     string `json:"go_version"`
	Platform      string `json:"platform"`
}

func buildOf(b *ckptpb.Build) *build {
	if b == nil {
		return nil
	}
	return &build{b.GetModuleVersion(), b.GetVcsRevision(), b.GetVcsTime(), b.GetVcsModified(), b.GetGoVersion(), b.GetPlatform()}
}

// label renders b as --version does (internal/version).
func (b *build) label() string {
	if b == nil {
		return "- (not recorded: written before checkpoints named their build)"
	}
	return version.Info{Version: b.ModuleVersion, Revision: b.VCSRevision, Time: b.VCSTime, Modified: b.VCSModified,
		GoVersion: b.GoVersion, Platform: b.Platform}.String()
}

// midEpochText says when the run commits mid-epoch checkpoints:
// --save-every-steps and --save-every (nanoseconds of wall time).
func midEpochText(steps, nanos int64) string {
	var when []string
	if steps > 0 {
		when = append(when, fmt.Sprintf("every %d steps", steps))
	}
	if nanos > 0 {
		when = append(when, "every "+time.Duration(nanos).String())
	}
	if len(when) == 0 {
		return "none"
	}
	return strings.Join(when, " and ")
}
