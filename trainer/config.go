package trainer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

// Config is every setting of a training run. It is stored in each checkpoint.
// The comment on each field names its command-line flag and whether it may
// change when a run is resumed (see ResumeConfig).
type Config struct {
	Epochs         int64   // --epochs: total epochs (cosine T_max); may grow on resume
	BatchSize      int64   // --batch-size; fixed
	LR             float64 // --lr: initial learning rate; fixed
	Momentum       float64 // --momentum; fixed
	EtaMin         float64 // --eta-min: final learning rate of the cosine; fixed
	Seed           uint64  // --seed: initial weights and every epoch's order; fixed
	LimitTrain     int64   // --limit-train: use the first N training images, 0 = all; fixed
	LimitTest      int64   // --limit-test: evaluate on the first N test images, 0 = all; may change
	SaveEverySteps int64   // --save-every-steps: mid-epoch checkpoint period, 0 = none; may change
	Keep           int64   // --keep: checkpoints kept in the run directory, 0 = all; may change
	Data           string  // --data: IDX directory, "" = the GoMNIST module; may change
	Embed          int64   // --embed: test images in the projector after the last epoch, 0 = none; may change
	// SaveEvery is --save-every: a mid-epoch checkpoint once this much
	// wall time has passed since the last commit (or the session's start),
	// 0 = none; may change.
	SaveEvery time.Duration
	// KeepBest is --keep-best: epoch-end checkpoints with the highest test
	// accuracy kept in addition to Keep, 0 = none; may change.
	KeepBest int64
}

// DefaultConfig returns the defaults of the original demo: batch 64, lr 0.01,
// momentum 0.9, eta_min 1e-4, 20 epochs (the project's choice of run length:
// it reaches 99.2 %), seed 1, keep 5; and the first DefaultEmbed test images
// in TensorBoard's projector.
func DefaultConfig() Config {
	return Config{Epochs: 20, BatchSize: 64, LR: 0.01, Momentum: 0.9, EtaMin: 1e-4, Seed: 1, Keep: 5, Embed: DefaultEmbed}
}

// DefaultEmbed is the default --embed: enough points for the projector to
// show the clusters of the ten digits (100 per digit on average), few enough
// that its files stay small (about 0.7 MB of tensors.tsv and a sprite of
// 32×32 digits) and that t-SNE runs in seconds in the browser.
const DefaultEmbed = 1000

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("trainer: --epochs %d: want at least 1", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("trainer: --batch-size %d: want at least 1", c.BatchSize)
	case !(c.LR > 0):
		return fmt.Errorf("trainer: --lr %v: want a positive learning rate", c.LR)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("trainer: --momentum %v: want 0 <= momentum < 1", c.Momentum)
	case !(c.EtaMin >= 0 && c.EtaMin <= c.LR):
		return fmt.Errorf("trainer: --eta-min %v: want 0 <= eta-min <= lr (%v)", c.EtaMin, c.LR)
	case c.LimitTrain < 0:
		return fmt.Errorf("trainer: --limit-train %d: want 0 (all) or more", c.LimitTrain)
	case c.LimitTest < 0:
		return fmt.Errorf("trainer: --limit-test %d: want 0 (all) or more", c.LimitTest)
	case c.SaveEverySteps < 0:
		return fmt.Errorf("trainer: --save-every-steps %d: want 0 (off) or more", c.SaveEverySteps)
	case c.Keep < 0:
		return fmt.Errorf("trainer: --keep %d: want 0 (all) or more", c.Keep)
	case c.SaveEvery < 0:
		return fmt.Errorf("trainer: --save-every %v: want 0 (off) or a positive duration", c.SaveEvery)
	case c.KeepBest < 0:
		return fmt.Errorf("trainer: --keep-best %d: want 0 (none) or more", c.KeepBest)
	case c.Embed < 0:
		return fmt.Errorf("trainer: --embed %d: want 0 (off) or more", c.Embed)
	}
	return nil
}

// Markdown renders the config as a markdown table (logged once as text).
func (c Config) Markdown() string {
	var b strings.Builder
	b.WriteString("| flag | value |\n|---|---|\n")
	for _, f := range c.fields() {
		fmt.Fprintf(&b, "| --%s | %s |\n", f.flag, f.value)
	}
	return b.String()
}

type field struct {
	flag, value string
	fixed       bool // may not change on resume
}

func (c Config) fields() []field {
	data := c.Data
	if data == "" {
		data = "(GoMNIST module)"
	}
	return []field{
		{"epochs", strconv.FormatInt(c.Epochs, 10), false},
		{"batch-size", strconv.FormatInt(c.BatchSize, 10), true},
		{"lr", fmtFloat(c.LR), true},
		{"momentum", fmtFloat(c.Momentum), true},
		{"eta-min", fmtFloat(c.EtaMin), true},
		{"seed", strconv.FormatUint(c.Seed, 10), true},
		{"limit-train", strconv.FormatInt(c.LimitTrain, 10), true},
		{"limit-test", strconv.FormatInt(c.LimitTest, 10), false},
		{"save-every-steps", strconv.FormatInt(c.SaveEverySteps, 10), false},
		{"keep", strconv.FormatInt(c.Keep, 10), false},
		{"data", data, false},
		{"embed", strconv.FormatInt(c.Embed, 10), false},
		{"save-every", c.SaveEvery.String(), false},
		{"keep-best", strconv.FormatInt(c.KeepBest, 10), false},
	}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// ResumeConfig returns the config a run resumed from checkpoint c (read from
// path) continues with: the checkpoint's config, with each setting whose flag
// was given (set reports it; nil means none) taken from req.
//
// --epochs, --limit-test, --save-every-steps, --save-every, --keep,
// --keep-best, --data and --embed may change.
// --epochs may not go below the epochs already completed or started (a
// mid-epoch checkpoint needs at least one more); raising it extends
// the run, and the cosine schedule of the remaining epochs is recomputed with
// T_max = the new --epochs (the epochs already trained keep their rates, so
// the result differs from a run started with the larger --epochs). Any other
// flag given with a value that differs from the checkpoint's is a
// *ConflictError naming the flag and both values.
func ResumeConfig(c *ckptpb.Checkpoint, path string, req Config, set func(flag string) bool) (Config, error) {
	if set == nil {
		set = func(string) bool { return false }
	}
	saved := ConfigOf(c)
	out := saved
	if err := conflict(saved, req, path, set); err != nil {
		return Config{}, err
	}
	if set("epochs") {
		// A mid-epoch checkpoint has started epoch c.Epoch: ending the run
		// before it would drop the steps already trained in it.
		if err := checkEpochs(c, path, req.Epochs); err != nil {
			return Config{}, err
		}
		out.Epochs = req.Epochs
	}
	if set("limit-test") {
		out.LimitTest = req.LimitTest
	}
	if set("save-every-steps") {
		out.SaveEverySteps = req.SaveEverySteps
	}
	if set("keep") {
		out.Keep = req.Keep
	}
	if set("data") {
		out.Data = req.Data
	}
	if set("embed") {
		out.Embed = req.Embed
	}
	if set("save-every") {
		out.SaveEvery = req.SaveEvery
	}
	if set("keep-best") {
		out.KeepBest = req.KeepBest
	}
	return out, out.Validate()
}

// conflict returns a *ConflictError for the first setting that may not
// change on resume, whose flag is set and whose value differs between saved
// (the checkpoint's, read from path) and req.
func conflict(saved, req Config, path string, set func(flag string) bool) error {
	sf, rf := saved.fields(), req.fields()
	for i := range sf {
		if sf[i].fixed && set(sf[i].flag) && sf[i].value != rf[i].value {
			return &ConflictError{Flag: sf[i].flag, Checkpoint: sf[i].value, Requested: rf[i].value, Path: path}
		}
	}
	return nil
}

// ConfigOf returns the config stored in a checkpoint.
func ConfigOf(c *ckptpb.Checkpoint) Config {
	p := c.GetConfig()
	return Config{
		Epochs:         p.GetEpochs(),
		BatchSize:      p.GetBatchSize(),
		LR:             p.GetLr(),
		Momentum:       p.GetMomentum(),
		EtaMin:         p.GetEtaMin(),
		Seed:           p.GetSeed(),
		LimitTrain:     p.GetLimitTrain(),
		LimitTest:      p.GetLimitTest(),
		SaveEverySteps: p.GetSaveEverySteps(),
		Keep:           p.GetKeep(),
		Data:           p.GetData(),
		Embed:          p.GetEmbed(),
		SaveEvery:      time.Duration(p.GetSaveEveryNanos()),
		KeepBest:       p.GetKeepBest(),
	}
}

func (c Config) proto() *ckptpb.Config {
	return &ckptpb.Config{
		Epochs:         c.Epochs,
		BatchSize:      c.BatchSize,
		Lr:             c.LR,
		Momentum:       c.Momentum,
		EtaMin:         c.EtaMin,
		Seed:           c.Seed,
		LimitTrain:     c.LimitTrain,
		LimitTest:      c.LimitTest,
		SaveEverySteps: c.SaveEverySteps,
		Keep:           c.Keep,
		Data:           c.Data,
		Embed:          c.Embed,
		SaveEveryNanos: int64(c.SaveEvery),
		KeepBest:       c.KeepBest,
	}
}
