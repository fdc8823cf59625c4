package model

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tbtrain/tbtrain/internal/kern"
)

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func TestParams(t *testing.T) {
	m := NewLeNet5(seeded(1))
	type ps struct {
		Name  string
		Shape []int
	}
	var got []ps
	total := 0
	for _, p := range m.Params() {
		got = append(got, ps{p.Name, p.Shape})
		n := 1
		for _, d := range p.Shape {
			n *= d
		}
		if len(p.Data) != n || len(p.Grad) != n {
			t.Errorf("%s: len(Data)=%d len(Grad)=%d, want %d", p.Name, len(p.Data), len(p.Grad), n)
		}
		total += n
	}
	// Names and shapes of the PyTorch demo's state_dict (the LeNet5 module it defines).
	want := []ps{
		{"convModel.0.weight", []int{6, 1, 5, 5}}, {"convModel.0.bias", []int{6}},
		{"convModel.3.weight", []int{16, 6, 5, 5}}, {"convModel.3.bias", []int{16}},
		{"lineNet.1.weight", []int{120, 400}}, {"lineNet.1.bias", []int{120}},
		{"lineNet.3.weight", []int{84, 120}}, {"lineNet.3.bias", []int{84}},
		{"lineNet.5.weight", []int{10, 84}}, {"lineNet.5.bias", []int{10}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Params names/shapes (-want +got):\n%s", d)
	}
	if total != 61706 || m.NumParams() != 61706 {
		t.Errorf("parameter count: sum of shapes %d, NumParams %d, want 61706", total, m.NumParams())
	}
	// Params alias the flat vectors, in order, without gaps.
	off := 0
	for _, p := range m.Params() {
		if &p.Data[0] != &m.Data()[off] || &p.Grad[0] != &m.Grad()[off] {
			t.Errorf("%s does not alias the flat vectors at offset %d", p.Name, off)
		}
		off += len(p.Data)
	}
}

func TestInitStatistics(t *testing.T) {
	m := NewLeNet5(seeded(7))
	for _, p := range m.Params() {
		fanIn := 1
		if strings.HasSuffix(p.Name, ".weight") {
			for _, d := range p.Shape[1:] {
				fanIn *= d
			}
		} else {
			// the bias bound uses the fan-in of the weight before it
			fanIn = map[string]int{"convModel.0.bias": 25, "convModel.3.bias": 150,
				"lineNet.1.bias": 400, "lineNet.3.bias": 120, "lineNet.5.bias": 84}[p.Name]
		}
		bound := float32(1 / math.Sqrt(float64(fanIn)))
		var sum, sq float64
		for _, v := range p.Data {
			if v < -bound || v > bound {
				t.Errorf("%s: value %g outside ±%g", p.Name, v, bound)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(p.Data))
		if n < 100 {
			continue // too few values for moment checks
		}
		// U(-b, b): mean 0, variance b²/3. The sample mean has standard
		// deviation b/√(3n); allow 5 of them. The variance estimate's
		// relative standard deviation is √(4/(5n)) (kurtosis 9/5); allow 5.
		b := float64(bound)
		mean := sum / n
		if math.Abs(mean) > 5*b/math.Sqrt(3*n) {
			t.Errorf("%s: mean %g too far from 0 (n=%v, bound %g)", p.Name, mean, n, b)
		}
		v := sq/n - mean*mean
		if rel := math.Abs(v/(b*b/3) - 1); rel > 5*math.Sqrt(0.8/n) {
			t.Errorf("%s: variance %g, want ≈ %g (rel err %g)", p.Name, v, b*b/3, rel)
		}
	}
	a, b := NewLeNet5(seeded(7)), NewLeNet5(seeded(7))
	if !slices.Equal(a.Data(), b.Data()) {
		t.Error("same seed gave different parameters")
	}
	if c := NewLeNet5(seeded(8)); slices.Equal(a.Data(), c.Data()) {
		t.Error("different seeds gave identical parameters")
	}
	// The draw order is state_dict order: the first value is the first
	// conv weight, from the first rng draw.
	r := seeded(7)
	if got, want := a.Data()[0], float32(-0.2+0.4*r.Float64()); got != want {
		t.Errorf("first weight %g, want first draw %g", got, want)
	}
}

func TestForwardMatchesReference(t *testing.T) {
	m := NewLeNet5(seeded(3))
	x, y := randomBatch(seeded(4), 37)
	ref := newRefNet(m.Data())
	pred := make([]uint8, len(y))
	gotSum := m.Eval(x, y, pred)
	var wantSum float64
	img := make([]float64, ImageSize)
	for i := range y {
		for j := range img {
			img[j] = float64(x[i*ImageSize+j])
		}
		z := ref.logits(img)
		wantSum += refXent(z, y[i])
		best := 0
		for j, v := range z {
			if v > z[best] {
				best = j
			}
		}
		if int(pred[i]) != best {
			t.Errorf("image %d: pred %d, reference argmax %d (logits %v)", i, pred[i], best, z)
		}
	}
	if math.Abs(gotSum-wantSum) > 1e-5*math.Abs(wantSum) {
		t.Errorf("Eval loss sum %.9g, reference %.9g", gotSum, wantSum)
	}
	// Logits, image by image, through the shard forward path.
	m.ensure(len(y), false)
	z := m.forward(m.shards[0].acts, m.shards[0].sc, x, len(y))
	for i := range y {
		for j := range img {
			img[j] = float64(x[i*ImageSize+j])
		}
		want := ref.logits(img)
		for j, w := range want {
			if g := float64(z[i*NumClasses+j]); math.Abs(g-w) > 1e-5+1e-5*math.Abs(w) {
				t.Errorf("image %d logit %d: got %.8g, want %.8g", i, j, g, w)
			}
		}
	}
	// TrainBatch returns the same mean loss.
	if got, want := float64(m.TrainBatch(x, y)), wantSum/float64(len(y)); math.Abs(got-want) > 1e-6*want {
		t.Errorf("TrainBatch loss %.9g, reference mean %.9g", got, want)
	}
}

// TestGradientWholeNet checks TrainBatch's gradient against central finite
// differences of the float64 reference net's mean loss, at every entry of
// the small tensors and a sample of the others.
func TestGradientWholeNet(t *testing.T) {
	m := NewLeNet5(seeded(11))
	x, y := randomBatch(seeded(12), 3)
	m.TrainBatch(x, y)
	ref := newRefNet(m.Data())
	pick := seeded(13)
	const eps = 1e-6 // float64 loss: truncation ~eps², rounding ~1e-16/eps
	checked := 0
	off := 0
	for _, p := range m.Params() {
		// every entry of the small tensors, 20 random ones of the others
		idx := []int{}
		if len(p.Data) <= 20 {
			for i := range p.Data {
				idx = append(idx, i)
			}
		} else {
			for range 20 {
				idx = append(idx, pick.IntN(len(p.Data)))
			}
		}
		for _, i := range idx {
			q := ref.param(off + i)
			orig := *q
			*q = orig + eps
			lp := ref.meanLoss(x, y)
			*q = orig - eps
			lm := ref.meanLoss(x, y)
			*q = orig
			fd := (lp - lm) / (2 * eps)
			g := float64(p.Grad[i])
			// float32 forward/backward: relative error ~1e-5 on the
			// large entries, an absolute floor for the tiny ones.
			if math.Abs(g-fd) > 2e-6+1e-3*math.Abs(fd) {
				t.Errorf("%s[%d]: grad %.8g, finite difference %.8g", p.Name, i, g, fd)
			}
			checked++
		}
		off += len(p.Data)
	}
	if checked < 150 {
		t.Fatalf("only %d entries checked", checked)
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	x, y := randomBatch(seeded(21), 64)
	type result struct {
		loss []float32
		grad []float32
		data []float32
		eval float64
		pred []uint8
	}
	runWith := func(workers, procs int) result {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		m := NewLeNet5With(seeded(20), Options{Workers: workers})
		var r result
		for _, n := range []int{64, 3, 17, 64} { // uneven and tiny batches too
			r.loss = append(r.loss, m.TrainBatch(x[:n*ImageSize], y[:n]))
			for i, g := range m.Grad() {
				m.Data()[i] -= 0.1 * g
			}
		}
		r.grad = slices.Clone(m.Grad())
		r.data = slices.Clone(m.Data())
		r.pred = make([]uint8, len(y))
		r.eval = m.Eval(x, y, r.pred)
		return r
	}
	base := runWith(1, 1)
	for _, c := range []struct{ workers, procs int }{{4, 1}, {2, 2}, {4, 2}, {0, 2}, {3, 4}} {
		got := runWith(c.workers, c.procs)
		if !slices.Equal(bits(got.loss), bits(base.loss)) || !slices.Equal(bits(got.grad), bits(base.grad)) ||
			!slices.Equal(bits(got.data), bits(base.data)) || math.Float64bits(got.eval) != math.Float64bits(base.eval) ||
			!slices.Equal(got.pred, base.pred) {
			t.Errorf("workers=%d GOMAXPROCS=%d: results differ from workers=1 GOMAXPROCS=1", c.workers, c.procs)
		}
	}
	// SetWorkers on a live model does not change results either.
	m := NewLeNet5With(seeded(20), Options{Workers: 1})
	m.TrainBatch(x, y)
	g1 := slices.Clone(m.Grad())
	m.SetWorkers(4)
	m.TrainBatch(x, y)
	if !slices.Equal(bits(g1), bits(m.Grad())) {
		t.Error("SetWorkers(4) changed the gradient")
	}
}

func bits(x []float32) []uint32 {
	b := make([]uint32, len(x))
	for i, v := range x {
		b[i] = math.Float32bits(v)
	}
	return b
}

// TestShardsSumToWholeBatch checks that splitting a batch only changes
// rounding: one shard vs four shards give the same gradient within float32
// tolerance.
func TestShardsSumToWholeBatch(t *testing.T) {
	x, y := randomBatch(seeded(31), 24)
	a := NewLeNet5With(seeded(30), Options{Shards: 1})
	b := NewLeNet5With(seeded(30), Options{Shards: 4})
	la, lb := a.TrainBatch(x, y), b.TrainBatch(x, y)
	if math.Abs(float64(la-lb)) > 1e-6 {
		t.Errorf("loss: 1 shard %g, 4 shards %g", la, lb)
	}
	var worst float64
	for i, g := range a.Grad() {
		d := math.Abs(float64(g - b.Grad()[i]))
		worst = max(worst, d/(1e-4+math.Abs(float64(g))))
	}
	if worst > 1e-3 {
		t.Errorf("gradients differ between 1 and 4 shards: worst relative difference %g", worst)
	}
}

func TestCrossEntropyLargeLogits(t *testing.T) {
	cases := []struct {
		name   string
		logits []float32
		label  uint8
		loss   float64 // exact -log softmax[label], worked out by hand
	}{
		{"uniform", []float32{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 3, math.Log(10)},
		{"huge right", []float32{1e4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 9 * math.Exp(-1e4)},
		{"huge wrong", []float32{1e4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1, 1e4},
		{"near float32 max", []float32{3e38, -3e38, 0, 0, 0, 0, 0, 0, 0, 0}, 2, float64(float32(3e38))},
		{"all large equal", []float32{1e30, 1e30, 1e30, 1e30, 1e30, 1e30, 1e30, 1e30, 1e30, 1e30}, 9, math.Log(10)},
		{"two tied", []float32{-50, 88, 88, -50, -50, -50, -50, -50, -50, -50}, 1, math.Log(2 + 8*math.Exp(-138))},
	}
	for _, c := range cases {
		d := make([]float32, NumClasses)
		got := softmaxXent(d, c.logits, []uint8{c.label}, 1)
		if math.IsNaN(got) || math.Abs(got-c.loss) > 1e-12*math.Max(1, c.loss) {
			t.Errorf("%s: loss %g, want %g", c.name, got, c.loss)
		}
		var s float64
		for j, v := range d {
			if math.IsNaN(float64(v)) || v < -1 || v > 1 {
				t.Errorf("%s: dlogit[%d] = %g", c.name, j, v)
			}
			s += float64(v)
		}
		if math.Abs(s) > 1e-6 {
			t.Errorf("%s: gradient sums to %g, want 0", c.name, s)
		}
	}
	// scale is applied: the gradient of the mean over 4 images.
	d := make([]float32, NumClasses)
	softmaxXent(d, make([]float32, NumClasses), []uint8{0}, 0.25)
	if want := float32((0.1 - 1) * 0.25); math.Abs(float64(d[0]-want)) > 1e-7 {
		t.Errorf("scaled dlogit[0] = %g, want %g", d[0], want)
	}
}

func TestNoAllocations(t *testing.T) {
	m := NewLeNet5With(seeded(1), Options{Workers: 2})
	x, y := randomBatch(seeded(2), 64)
	pred := make([]uint8, len(y))
	m.TrainBatch(x, y)
	m.Eval(x, y, pred)
	if a := testing.AllocsPerRun(5, func() { m.TrainBatch(x, y) }); a != 0 {
		t.Errorf("TrainBatch: %v allocations per call, want 0", a)
	}
	if a := testing.AllocsPerRun(5, func() { m.Eval(x, y, pred) }); a != 0 {
		t.Errorf("Eval: %v allocations per call, want 0", a)
	}
	// Alternating with a smaller batch does not reallocate either.
	if a := testing.AllocsPerRun(5, func() { m.TrainBatch(x[:16*ImageSize], y[:16]); m.Eval(x[:5*ImageSize], y[:5], pred[:5]) }); a != 0 {
		t.Errorf("smaller batches: %v allocations per call, want 0", a)
	}
}

func TestPanics(t *testing.T) {
	m := NewLeNet5(seeded(1))
	x, y := randomBatch(seeded(2), 2)
	cases := []struct {
		name, want string
		f          func()
	}{
		{"short x", errInputLen, func() { m.TrainBatch(x[:100], y) }},
		{"empty batch", errEmptyTrain, func() { m.TrainBatch(nil, nil) }},
		{"bad label", errLabel, func() { m.TrainBatch(x, []uint8{1, 10}) }},
		{"eval short x", errInputLen, func() { m.Eval(x[:784], y, nil) }},
		{"eval pred len", errPredLen, func() { m.Eval(x, y, make([]uint8, 1)) }},
		{"eval bad label", errLabel, func() { m.Eval(x, []uint8{200, 0}, nil) }},
		{"nil rng", errNilRand, func() { NewLeNet5(nil) }},
		{"negative shards", errShards, func() { NewLeNet5With(seeded(1), Options{Shards: -1}) }},
		{"negative workers", errWorkers, func() { m.SetWorkers(-2) }},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if r := recover(); r != c.want {
					t.Errorf("%s: panic %v, want %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
	if got := m.Eval(nil, nil, nil); got != 0 {
		t.Errorf("Eval of no images = %g, want 0", got)
	}
}

// TestHelpersEndWithModel checks that a model's helper goroutines end once
// the model is unreachable (they are stopped by a runtime cleanup).
func TestHelpersEndWithModel(t *testing.T) {
	// Models of earlier tests may still have helpers that end once the GC
	// finds them unreachable: count only after those have gone.
	before := settledGoroutines()
	func() {
		m := NewLeNet5With(seeded(1), Options{Workers: 4})
		x, y := randomBatch(seeded(2), 8)
		m.TrainBatch(x, y)
		if got := runtime.NumGoroutine(); got < before+3 {
			t.Fatalf("%d goroutines with a 4-worker model, want >= %d", got, before+3)
		}
	}()
	for range 100 {
		runtime.GC()
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines after the model became unreachable, want <= %d", runtime.NumGoroutine(), before)
}

// settledGoroutines collects garbage until the number of goroutines stops
// falling, and returns it.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 100 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

func TestNumerics(t *testing.T) {
	a := NewLeNet5With(seeded(1), Options{Workers: 1})
	b := NewLeNet5With(seeded(1), Options{Workers: 3})
	if a.Numerics() != b.Numerics() {
		t.Errorf("Numerics depends on Workers: %q vs %q", a.Numerics(), b.Numerics())
	}
	c := NewLeNet5With(seeded(1), Options{Shards: 8})
	if a.Numerics() == c.Numerics() {
		t.Errorf("Numerics %q does not change with Shards", a.Numerics())
	}
	if !strings.Contains(a.Numerics(), "arith="+kern.Arithmetic) {
		t.Errorf("Numerics %q does not name the arithmetic %q", a.Numerics(), kern.Arithmetic)
	}
	defer kern.SetPath("")
	for _, p := range kern.Paths() {
		if err := kern.SetPath(p); err != nil {
			t.Fatal(err)
		}
		if got := a.Numerics(); got != b.Numerics() || strings.Contains(got, p) {
			t.Errorf("kern path %s: Numerics %q depends on the code path", p, got)
		}
	}
}

// TestChunkingOnlyRounds checks the LeNet-5 convolutions' chunked passes
// (several chunks, a short last one) against the same model computing
// each shard in one chunk: only the order of float32 sums may differ.
func TestChunkingOnlyRounds(t *testing.T) {
	x, y := randomBatch(seeded(41), 21) // conv1: 5 chunks of 4 + 1; conv2: 16 + 5
	a := NewLeNet5With(seeded(40), Options{Shards: 1})
	b := NewLeNet5With(seeded(40), Options{Shards: 1})
	for _, l := range b.layers[:2] {
		l.(*conv).chunk = 0
	}
	la, lb := a.TrainBatch(x, y), b.TrainBatch(x, y)
	if math.Abs(float64(la-lb)) > 1e-6 {
		t.Errorf("loss: chunked %g, whole %g", la, lb)
	}
	var worst float64
	for i, g := range a.Grad() {
		d := math.Abs(float64(g - b.Grad()[i]))
		worst = max(worst, d/(1e-4+math.Abs(float64(b.Grad()[i]))))
	}
	if worst > 1e-3 {
		t.Errorf("chunked and whole-shard gradients differ: worst relative difference %g", worst)
	}
	if slices.Equal(a.Grad(), make([]float32, len(a.Grad()))) {
		t.Error("gradient is all zero")
	}
}
