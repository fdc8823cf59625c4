package model

import (
	"math"

	"github.com/tbtrain/tbtrain/internal/kern"
)

// Activation layouts. A layer works on a shard of b images at once.
//
//   - Channel-major ("CBHW"): element (c, i, y, x) of image i is stored at
//     c*b*H*W + i*H*W + y*W + x. The convolutions use this layout because
//     im2col then turns a whole shard into one matrix product whose N
//     dimension is b*OH*OW. A single-channel input ([b][784] images) is
//     already in this layout.
//   - Row-major features ("BF"): element f of image i is at i*F + f. The fully
//     connected layers use it; the last pooling layer writes it directly
//     (flatten in PyTorch's (c, y, x) order, so Flatten costs nothing).

// scratch holds a layer's per-shard working memory besides activations.
type scratch struct {
	col []float32 // conv: im2col matrix (K × b*OH*OW), reused as dcol in backward
	pre []float32 // pooling conv: output before pooling, reused for its gradient
	arg []int32   // pooling conv: index into pre of each output's maximum
}

// layer is one stage of the network. All methods work on b images, take the
// layer's parameters w (weights then bias, PyTorch order) and never allocate.
//
// forward reads in (b*inSize floats) and writes out (b*outSize floats).
// backward takes the same in and out plus dout = dL/dout, which it may
// overwrite; it OVERWRITES g (numParams floats) with dL/dw and, unless din is
// nil, writes dL/din into din (b*inSize floats). backward must follow a
// forward call with the same in, out, b and scratch.
type layer interface {
	inSize() int
	outSize() int
	numParams() int
	newScratch(b int) scratch
	forward(w, in, out []float32, b int, s *scratch)
	backward(w, in, out, dout, din, g []float32, b int, s *scratch)
}

var (
	_ layer = (*conv)(nil)
	_ layer = (*linear)(nil)
)

// conv is a 2-D convolution with stride 1 (cross-correlation, as PyTorch's
// Conv2d), square kernel k and zero padding pad, optionally followed by
// ReLU and then by a 2×2 stride-2 max pool (PyTorch MaxPool2d(2); the
// convolution output must have even height and width). Weights are
// [cout][cin][k][k], then cout biases. The input is channel-major; so is the
// output, unless flatten is set (requires pool), which writes row-major
// features in (c, y, x) order: PyTorch's Flatten of the pooled maps.
//
// Fusing the pool means the full-size activation is only a scratch buffer:
// since ReLU and adding a bias are monotonic, max-pooling the raw products
// and then adding the bias and clamping gives the same values as PyTorch's
// ReLU-then-pool. The kept arg-max is the first largest raw product in
// row-major window order; where ReLU clamps, the gradient is 0 either way.
type conv struct {
	cin, cout, h, w, k, pad int
	relu, pool, flatten     bool
}

// convHW is the size of the convolution's own output (before pooling).
func (c *conv) convHW() (int, int) { return c.h + 2*c.pad - c.k + 1, c.w + 2*c.pad - c.k + 1 }

// outHW is the size of the layer's output maps.
func (c *conv) outHW() (int, int) {
	oh, ow := c.convHW()
	if c.pool {
		return oh / 2, ow / 2
	}
	return oh, ow
}
func (c *conv) inSize() int { return c.cin * c.h * c.w }
func (c *conv) outSize() int {
	oh, ow := c.outHW()
	return c.cout * oh * ow
}
func (c *conv) kdim() int      { return c.cin * c.k * c.k }
func (c *conv) numParams() int { return c.cout*c.kdim() + c.cout }
func (c *conv) newScratch(b int) scratch {
	oh, ow := c.convHW()
	s := scratch{col: make([]float32, c.kdim()*b*oh*ow)}
	if c.pool {
		s.pre = make([]float32, c.cout*b*oh*ow)
		s.arg = make([]int32, b*c.outSize())
	}
	return s
}

// im2col fills col (K rows × b*OH*OW columns) with the input patches:
// col[(ci*k+ky)*k+kx][i*OH*OW + oy*OW + ox] = in[ci][i][oy+ky-pad][ox+kx-pad],
// zero outside the image.
func (c *conv) im2col(in, col []float32, b int) {
	oh, ow := c.convHW()
	n := b * oh * ow
	hw := c.h * c.w
	for ci := range c.cin {
		for ky := range c.k {
			for kx := range c.k {
				row := col[((ci*c.k+ky)*c.k+kx)*n:][:n]
				// valid ox range: 0 <= ox+kx-pad < w
				x0 := max(0, c.pad-kx)
				x1 := min(ow, c.w+c.pad-kx)
				for i := range b {
					src := in[(ci*b+i)*hw:][:hw]
					dst := row[i*oh*ow:][:oh*ow]
					for oy := range oh {
						d := dst[oy*ow:][:ow]
						y := oy + ky - c.pad
						if y < 0 || y >= c.h || x0 >= x1 {
							clear(d)
							continue
						}
						clear(d[:x0])
						copy(d[x0:x1], src[y*c.w+x0+kx-c.pad:])
						clear(d[x1:])
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: din[ci][i][y][x] = sum of the col
// entries im2col copied from there.
func (c *conv) col2im(col, din []float32, b int) {
	oh, ow := c.convHW()
	n := b * oh * ow
	hw := c.h * c.w
	clear(din[:c.cin*b*hw])
	for ci := range c.cin {
		for ky := range c.k {
			for kx := range c.k {
				row := col[((ci*c.k+ky)*c.k+kx)*n:][:n]
				x0 := max(0, c.pad-kx)
				x1 := min(ow, c.w+c.pad-kx)
				if x0 >= x1 {
					continue
				}
				for i := range b {
					dst := din[(ci*b+i)*hw:][:hw]
					src := row[i*oh*ow:][:oh*ow]
					for oy := range oh {
						y := oy + ky - c.pad
						if y < 0 || y >= c.h {
							continue
						}
						s := src[oy*ow+x0 : oy*ow+x1]
						d := dst[y*c.w+x0+kx-c.pad:][:len(s)]
						for j, v := range s {
							d[j] += v
						}
					}
				}
			}
		}
	}
}

// outBase is the index of the first output of channel co, image i.
func (c *conv) outBase(co, i, b int) int {
	oh, ow := c.outHW()
	if c.flatten {
		return (i*c.cout + co) * oh * ow
	}
	return (co*b + i) * oh * ow
}

func (c *conv) forward(w, in, out []float32, b int, s *scratch) {
	oh, ow := c.convHW()
	n := b * oh * ow
	kd := c.kdim()
	c.im2col(in, s.col, b)
	bias := w[c.cout*kd:][:c.cout]
	if !c.pool {
		kern.Sgemm(false, false, c.cout, n, kd, w, kd, s.col, n, false, out, n)
		for co, bv := range bias {
			addBias(out[co*n:][:n], bv, c.relu)
		}
		return
	}
	kern.Sgemm(false, false, c.cout, n, kd, w, kd, s.col, n, false, s.pre, n)
	ph, pw := oh/2, ow/2
	for co, bv := range bias {
		for i := range b {
			base := (co*b + i) * oh * ow
			src := s.pre[base:][: oh*ow : oh*ow]
			o := c.outBase(co, i, b)
			dst := out[o:][: ph*pw : ph*pw]
			arg := s.arg[o:][: ph*pw : ph*pw]
			for py := range ph {
				r0 := src[2*py*ow:][:ow:ow]
				r1 := src[(2*py+1)*ow:][:ow:ow]
				for px := range pw {
					m, at := max4(r0[2*px], r0[2*px+1], r1[2*px], r1[2*px+1])
					v := m + bv
					if c.relu {
						v = max(v, 0)
					}
					dst[py*pw+px] = v
					arg[py*pw+px] = int32(base + (2*py+at>>1)*ow + 2*px + at&1)
				}
			}
		}
	}
}

// max4 returns the largest of a0..a3 and the index of the first one equal
// to it; written with max and conditional moves, not branches, since the
// comparisons are unpredictable.
func max4(a0, a1, a2, a3 float32) (float32, int) {
	m, at := a0, 0
	if a1 > m {
		at = 1
	}
	m = max(m, a1)
	if a2 > m {
		at = 2
	}
	m = max(m, a2)
	if a3 > m {
		at = 3
	}
	return max(m, a3), at
}

func (c *conv) backward(w, in, out, dout, din, g []float32, b int, s *scratch) {
	oh, ow := c.convHW()
	n := b * oh * ow
	kd := c.kdim()
	gb := g[c.cout*kd:][:c.cout]
	dpre := dout // gradient w.r.t. the convolution output (cout × n)
	if c.pool {
		// Route each pooled gradient to its arg-max; pre is free now.
		dpre = s.pre[:c.cout*n]
		clear(dpre)
		ph, pw := oh/2, ow/2
		for co := range c.cout {
			var sum float64
			for i := range b {
				o := c.outBase(co, i, b)
				d := dout[o:][: ph*pw : ph*pw]
				arg := s.arg[o:][: ph*pw : ph*pw]
				y := out[o:][: ph*pw : ph*pw]
				for j, a := range arg {
					v := d[j]
					if c.relu {
						v = keepIfPositive(v, y[j])
					}
					dpre[a] = v
					sum += float64(v)
				}
			}
			gb[co] = float32(sum)
		}
	} else {
		if c.relu {
			reluMask(dout[:c.cout*n], out)
		}
		for co := range gb {
			gb[co] = sum32(dout[co*n:][:n])
		}
	}
	// dL/dW = dpre (cout × n) · colᵀ (n × K)
	kern.Sgemm(false, true, c.cout, kd, n, dpre, n, s.col, n, false, g, kd)
	if din == nil {
		return
	}
	// dcol (K × n) = Wᵀ (K × cout) · dpre (cout × n); col is no longer needed.
	kern.Sgemm(true, false, kd, n, c.cout, w, kd, dpre, n, false, s.col, n)
	c.col2im(s.col, din, b)
}

// linear is a fully connected layer out = in·Wᵀ + bias (PyTorch Linear),
// optionally followed by ReLU. Weights are [out][in], then out biases.
// Input and output are row-major features.
type linear struct {
	in, out int
	relu    bool
}

func (l *linear) inSize() int            { return l.in }
func (l *linear) outSize() int           { return l.out }
func (l *linear) numParams() int         { return l.out*l.in + l.out }
func (l *linear) newScratch(int) scratch { return scratch{} }

func (l *linear) forward(w, in, out []float32, b int, _ *scratch) {
	kern.Sgemm(false, true, b, l.out, l.in, in, l.in, w, l.in, false, out, l.out)
	bias := w[l.out*l.in:][:l.out]
	for i := range b {
		row := out[i*l.out:][:l.out]
		for j, bv := range bias {
			v := row[j] + bv
			if l.relu {
				v = max(v, 0)
			}
			row[j] = v
		}
	}
}

func (l *linear) backward(w, in, out, dout, din, g []float32, b int, _ *scratch) {
	if l.relu {
		reluMask(dout[:b*l.out], out)
	}
	// dL/dW (out × in) = doutᵀ (out × b) · in (b × in)
	kern.Sgemm(true, false, l.out, l.in, b, dout, l.out, in, l.in, false, g, l.in)
	gb := g[l.out*l.in:][:l.out]
	clear(gb)
	for i := range b {
		row := dout[i*l.out:][:l.out]
		for j, v := range row {
			gb[j] += v
		}
	}
	if din == nil {
		return
	}
	// dL/din (b × in) = dout (b × out) · W (out × in)
	kern.Sgemm(false, false, b, l.in, l.out, dout, l.out, w, l.in, false, din, l.in)
}

// addBias adds bv to every element of x and, if relu, clamps at zero.
func addBias(x []float32, bv float32, relu bool) {
	if !relu {
		for j := range x {
			x[j] += bv
		}
		return
	}
	for j, v := range x {
		x[j] = max(v+bv, 0)
	}
}

// reluMask zeroes d where the ReLU output y is zero (the ReLU was inactive
// there): d = d * [y > 0], PyTorch's threshold_backward.
func reluMask(d, y []float32) {
	y = y[:len(d)]
	for j, v := range y {
		d[j] = keepIfPositive(d[j], v)
	}
}

// keepIfPositive returns g if the ReLU output y is not +0, else 0, without a
// branch (the sign pattern is unpredictable). y is a ReLU output, so it is
// +0, positive or NaN; its bits are non-zero exactly when it is not +0, and
// bits|-bits then has the top bit set.
func keepIfPositive(g, y float32) float32 {
	u := math.Float32bits(y)
	mask := uint32(int32(u|-u) >> 31)
	return math.Float32frombits(math.Float32bits(g) & mask)
}

// sum32 is the sum of x, accumulated sequentially in float64 (long
// channel sums, b*784 terms for conv1, lose too much in float32).
func sum32(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return float32(s)
}
