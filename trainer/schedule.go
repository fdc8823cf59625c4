package trainer

import (
	"math"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// CosineLR returns the learning rate used during 0-based epoch e of a cosine
// annealing schedule from baseLR down to etaMin over tMax epochs:
//
//	lr(e) = etaMin + (baseLR - etaMin) * (1 + cos(π·e/tMax)) / 2
//
// This is the closed form of PyTorch's torch.optim.lr_scheduler.CosineAnnealingLR
// (_get_closed_form_lr, torch 1.13), evaluated in the same order of operations.
// The scheduler is stepped once per epoch, so lr(0) = baseLR and
// lr(tMax) = etaMin. Past tMax the formula keeps its period 2·tMax, as PyTorch's
// does; the trainer never goes past tMax because tMax is the total number of
// epochs. PyTorch's scheduler steps a recursive form instead; the two agree to
// a few units in the last place of a float64 (see TestCosineLRMatchesPyTorch),
// and the closed form is used here because it makes the rate a pure function of
// the epoch, which a resumed run needs. cos is kern.Cos, which gives the same
// bits on every processor (math.Cos does not: amd64 and arm64 differ in the
// last place), so a run resumed on another machine uses the same rates.
//
// CosineLR panics if tMax < 1.
func CosineLR(baseLR, etaMin float64, tMax, e int64) float64 {
	if tMax < 1 {
		panic("trainer: CosineLR with tMax < 1")
	}
	// The explicit float64 conversion keeps the compiler from fusing the
	// product with the sum (it may, e.g. with GOAMD64=v3), which PyTorch does not.
	return etaMin + float64((baseLR-etaMin)*(1+kern.Cos(math.Pi*float64(e)/float64(tMax))))/2
}
