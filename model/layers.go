package model

import "github.com/tbtrain/tbtrain/internal/kern"

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
	arg []int32   // pool: index into the input of each output's maximum
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
	_ layer = (*maxPool)(nil)
	_ layer = (*linear)(nil)
)

// conv is a 2-D convolution with stride 1 (cross-correlation, as PyTorch's
// Conv2d), square kernel k and zero padding pad, optionally followed by ReLU.
// Weights are [cout][cin][k][k], then cout biases. Input and output are
// channel-major.
type conv struct {
	cin, cout, h, w, k, pad int
	relu                    bool
}

func (c *conv) outHW() (int, int) { return c.h + 2*c.pad - c.k + 1, c.w + 2*c.pad - c.k + 1 }
func (c *conv) inSize() int       { return c.cin * c.h * c.w }
func (c *conv) outSize() int {
	oh, ow := c.outHW()
	return c.cout * oh * ow
}
func (c *conv) kdim() int      { return c.cin * c.k * c.k }
func (c *conv) numParams() int { return c.cout*c.kdim() + c.cout }
func (c *conv) newScratch(b int) scratch {
	oh, ow := c.outHW()
	return scratch{col: make([]float32, c.kdim()*b*oh*ow)}
}

// im2col fills col (K rows × b*OH*OW columns) with the input patches:
// col[(ci*k+ky)*k+kx][i*OH*OW + oy*OW + ox] = in[ci][i][oy+ky-pad][ox+kx-pad],
// zero outside the image.
func (c *conv) im2col(in, col []float32, b int) {
	oh, ow := c.outHW()
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
	oh, ow := c.outHW()
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

func (c *conv) forward(w, in, out []float32, b int, s *scratch) {
	oh, ow := c.outHW()
	n := b * oh * ow
	kd := c.kdim()
	c.im2col(in, s.col, b)
	kern.Sgemm(false, false, c.cout, n, kd, w, kd, s.col, n, false, out, n)
	bias := w[c.cout*kd:][:c.cout]
	for co, bv := range bias {
		addBias(out[co*n:][:n], bv, c.relu)
	}
}

func (c *conv) backward(w, in, out, dout, din, g []float32, b int, s *scratch) {
	oh, ow := c.outHW()
	n := b * oh * ow
	kd := c.kdim()
	if c.relu {
		reluMask(dout[:c.cout*n], out)
	}
	// dL/dW = dout (cout × n) · colᵀ (n × K)
	kern.Sgemm(false, true, c.cout, kd, n, dout, n, s.col, n, false, g, kd)
	gb := g[c.cout*kd:][:c.cout]
	for co := range gb {
		gb[co] = sum32(dout[co*n:][:n])
	}
	if din == nil {
		return
	}
	// dcol (K × n) = Wᵀ (K × cout) · dout (cout × n); col is no longer needed.
	kern.Sgemm(true, false, kd, n, c.cout, w, kd, dout, n, false, s.col, n)
	c.col2im(s.col, din, b)
}

// maxPool is a 2×2 max pooling with stride 2 (PyTorch MaxPool2d(2)) over c
// channels of h×w (h and w even). Input is channel-major; the output is
// channel-major, or row-major features in (c, y, x) order if flatten is set.
// The maximum of a window is its first largest element in row-major order.
type maxPool struct {
	c, h, w int
	flatten bool
}

func (p *maxPool) inSize() int              { return p.c * p.h * p.w }
func (p *maxPool) outSize() int             { return p.c * (p.h / 2) * (p.w / 2) }
func (p *maxPool) numParams() int           { return 0 }
func (p *maxPool) newScratch(b int) scratch { return scratch{arg: make([]int32, b*p.outSize())} }

// outIndex is where output (ch, i, j) goes, j = oy*OW+ox.
func (p *maxPool) outIndex(ch, i, j, b int) int {
	ohw := (p.h / 2) * (p.w / 2)
	if p.flatten {
		return i*p.c*ohw + ch*ohw + j
	}
	return (ch*b+i)*ohw + j
}

func (p *maxPool) forward(_, in, out []float32, b int, s *scratch) {
	oh, ow := p.h/2, p.w/2
	hw := p.h * p.w
	for ch := range p.c {
		for i := range b {
			base := (ch*b + i) * hw
			src := in[base:][:hw]
			o := p.outIndex(ch, i, 0, b)
			dst := out[o:][: oh*ow : oh*ow]
			arg := s.arg[o:][: oh*ow : oh*ow]
			for oy := range oh {
				r0 := src[2*oy*p.w:][:p.w]
				r1 := src[(2*oy+1)*p.w:][:p.w]
				for ox := range ow {
					best, at := r0[2*ox], 2*oy*p.w+2*ox
					if v := r0[2*ox+1]; v > best {
						best, at = v, 2*oy*p.w+2*ox+1
					}
					if v := r1[2*ox]; v > best {
						best, at = v, (2*oy+1)*p.w+2*ox
					}
					if v := r1[2*ox+1]; v > best {
						best, at = v, (2*oy+1)*p.w+2*ox+1
					}
					dst[oy*ow+ox] = best
					arg[oy*ow+ox] = int32(base + at)
				}
			}
		}
	}
}

func (p *maxPool) backward(_, _, _, dout, din, _ []float32, b int, s *scratch) {
	if din == nil {
		return
	}
	clear(din[:b*p.inSize()])
	n := b * p.outSize()
	for o, a := range s.arg[:n] {
		din[a] += dout[o]
	}
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
			if l.relu && !(v > 0) {
				v = 0
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

// addBias adds bv to every element of x and, if relu, clamps at zero
// (NaN becomes 0 as well, as !(v > 0)).
func addBias(x []float32, bv float32, relu bool) {
	if !relu {
		for j := range x {
			x[j] += bv
		}
		return
	}
	for j, v := range x {
		v += bv
		if !(v > 0) {
			v = 0
		}
		x[j] = v
	}
}

// reluMask zeroes d where the ReLU output y is not positive (the ReLU was
// inactive there): d = d * [y > 0], PyTorch's threshold_backward.
func reluMask(d, y []float32) {
	y = y[:len(d)]
	for j, v := range y {
		if !(v > 0) {
			d[j] = 0
		}
	}
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
