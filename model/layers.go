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
	col   []float32 // conv: im2col matrix (K × chunk*GH*GW), reused as dcol (wide: dcol only)
	pre   []float32 // conv: products W·col of a chunk, reused for their gradient
	pad   []float32 // wide conv: zero-padded input images of a chunk
	padCB int       // wide conv: pad is +0 outside the images of a chunk of padCB images (0: unknown)
	stage []float32 // conv: a chunk's input (or its gradient) made contiguous
	boff  []int     // wide conv: start of each patch row in pad
	arg   []int32   // pooling conv: index into pre of each output's maximum
	bsum  []float64 // conv: bias gradient being summed over the chunks
}

// layer is one stage of the network. All methods work on b images, take the
// layer's parameters w (weights then bias, PyTorch order) and never allocate.
//
// forward reads in (b*inSize floats) and writes out (b*outSize floats).
// backward takes the same in and out plus dout = dL/dout, which it may
// overwrite; it OVERWRITES g (numParams floats) with dL/dw and, unless din is
// nil, writes dL/din into din (b*inSize floats). backward must follow a
// forward call with the same in, out, b and scratch. A linear layer also
// takes a nil g: it then leaves dL/dw to its caller and only leaves in
// dout the gradient with respect to its products (dout masked by the
// ReLU), from which LeNet5.reduceLinear computes it.
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
// convolution output must then have even height and width). Weights are
// [cout][cin][k][k], then cout biases. The input is channel-major; so is the
// output, unless flatten is set (requires pool), which writes row-major
// features in (c, y, x) order: PyTorch's Flatten of the pooled maps.
//
// The convolution is computed as pre = W · col (one kern.Sgemm) on chunks of
// up to chunk images (0: the whole shard at once), so that col and pre stay
// in the L2 cache. The backward pass visits the chunks in reverse order and
// rebuilds col for all but the last one, which is still in place.
//
// Fusing the pool means the full-size activation is only a scratch buffer:
// since ReLU and adding a bias are monotonic, max-pooling the raw products
// and then adding the bias and clamping gives the same values as PyTorch's
// ReLU-then-pool. The kept arg-max is the first largest raw product in
// row-major window order; where ReLU clamps, the gradient is 0 either way.
//
// With wide set, each image of a chunk is first copied into a zero-padded
// (h+2pad)×(w+2pad) buffer and the products are computed on that whole
// padded grid, rows past oh and columns past ow being wasted work. Row
// (ci, ky, kx) of the patch matrix is then the padded buffer itself shifted
// by ky*(w+2pad)+kx, so kern.SgemmRows/SgemmRowsT read it in place and no
// im2col copy is made ("implicit im2col"); conv1 uses it.
type conv struct {
	cin, cout, h, w, k, pad   int
	relu, pool, flatten, wide bool
	chunk                     int
}

// convHW is the size of the convolution's own output (before pooling).
func (c *conv) convHW() (int, int) { return c.h + 2*c.pad - c.k + 1, c.w + 2*c.pad - c.k + 1 }

// grid is the size of the computed product grid per image (see wide).
func (c *conv) grid() (int, int) {
	if c.wide {
		return c.padded()
	}
	return c.convHW()
}

// padded is the size of one zero-padded input image (wide only).
func (c *conv) padded() (int, int) { return c.h + 2*c.pad, c.w + 2*c.pad }

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

// chunkSize is the number of images per chunk for a shard of b images.
func (c *conv) chunkSize(b int) int {
	if c.chunk <= 0 || c.chunk > b {
		return b
	}
	return c.chunk
}

func (c *conv) newScratch(b int) scratch {
	cb := c.chunkSize(b)
	gh, gw := c.grid()
	s := scratch{
		pre:  make([]float32, c.cout*cb*gh*gw),
		bsum: make([]float64, c.cout),
	}
	if !c.wide {
		// a wide conv needs col only for an input gradient; backward
		// allocates it on first use (conv1 never asks for one)
		s.col = make([]float32, c.kdim()*cb*gh*gw)
	}
	if c.pool {
		s.arg = make([]int32, b*c.outSize())
	}
	if c.wide {
		ph, pw := c.padded()
		// slack: the last patch row starts (k-1)*pw+k-1 past the buffer's start
		s.pad = make([]float32, c.cin*cb*ph*pw+(c.k-1)*pw+c.k)
		s.boff = make([]int, c.kdim())
	} else if !c.chunkDirect(b, cb) {
		s.stage = make([]float32, c.cin*cb*c.h*c.w)
	}
	return s
}

// fillPad copies images i0..i0+cb-1 of in (b images) into s.pad, zero
// padded (wide only), and sets s.boff: patch row (ci, ky, kx) is
// s.pad[boff[(ci*k+ky)*k+kx]:][:cb*PH*PW].
func (c *conv) fillPad(in []float32, b, i0, cb int, s *scratch) {
	hw := c.h * c.w
	ph, pw := c.padded()
	ps := ph * pw
	if s.padCB != cb {
		// Everything outside the images' interiors is +0 from now on: the
		// copies below write only interiors, so the borders and the slack
		// are cleared once per layout, not per chunk (col2im, which sums
		// into pad, resets padCB).
		clear(s.pad)
		s.padCB = cb
	}
	for ci := range c.cin {
		// the chunk's images of channel ci are contiguous in in and in pad
		kern.CopyPadded(s.pad[ci*cb*ps:][:cb*ps], in[(ci*b+i0)*hw:][:cb*hw], cb, c.h, c.w, c.pad)
	}
	for ci := range c.cin {
		for ky := range c.k {
			for kx := range c.k {
				s.boff[(ci*c.k+ky)*c.k+kx] = ci*cb*ps + ky*pw + kx
			}
		}
	}
}

// im2col fills s.col (K rows × cb*OH*OW columns) with the patches of images
// i0..i0+cb-1 of in (b images): col[(ci*k+ky)*k+kx][il*OH*OW + oy*OW + ox]
// = input (ci, i0+il, oy+ky-pad, ox+kx-pad), zero outside the image.
func (c *conv) im2col(in []float32, b, i0, cb int, s *scratch) {
	oh, ow := c.convHW()
	n := cb * oh * ow
	kern.Im2col(s.col[:c.kdim()*n], c.chunkIn(in, b, i0, cb, s), c.shape(), cb)
}

// shape is the kern description of the input side.
func (c *conv) shape() kern.ConvShape {
	return kern.ConvShape{C: c.cin, H: c.h, W: c.w, K: c.k, Pad: c.pad}
}

// chunkDirect reports whether a chunk of cb of the b images of a
// channel-major batch is itself a contiguous channel-major batch.
func (c *conv) chunkDirect(b, cb int) bool { return c.cin == 1 || cb == b }

// chunkIn returns images i0..i0+cb-1 of in as a channel-major batch of cb:
// a sub-slice when they are contiguous, else a copy in s.stage.
func (c *conv) chunkIn(in []float32, b, i0, cb int, s *scratch) []float32 {
	hw := c.h * c.w
	if c.chunkDirect(b, cb) {
		return in[i0*hw : (c.cin-1)*b*hw+(i0+cb)*hw]
	}
	for ci := range c.cin {
		copy(s.stage[ci*cb*hw:][:cb*hw], in[(ci*b+i0)*hw:])
	}
	return s.stage[:c.cin*cb*hw]
}

// col2im is the adjoint of im2col: it writes into images i0..i0+cb-1 of
// din the sums of the s.col entries im2col copied from each input position.
func (c *conv) col2im(din []float32, b, i0, cb int, s *scratch) {
	gh, gw := c.grid()
	g := gh * gw
	n := cb * g
	hw := c.h * c.w
	if c.wide {
		// s.col holds dL/d(patch rows); add each row back at its offset
		ph, pw := c.padded()
		ps := ph * pw
		clear(s.pad)
		s.padCB = 0 // pad now holds sums, not a chunk's images
		for r, off := range s.boff {
			addTo(s.pad[off:][:n], s.col[r*n:][:n])
		}
		for ci := range c.cin {
			for il := range cb {
				src := s.pad[(ci*cb+il)*ps:][:ps]
				dst := din[(ci*b+i0+il)*hw:][:hw]
				for y := range c.h {
					copy(dst[y*c.w:][:c.w], src[(y+c.pad)*pw+c.pad:])
				}
			}
		}
		return
	}
	if c.chunkDirect(b, cb) {
		kern.Col2im(din[i0*hw:(c.cin-1)*b*hw+(i0+cb)*hw], s.col[:c.kdim()*n], c.shape(), cb)
		return
	}
	kern.Col2im(s.stage[:c.cin*cb*hw], s.col[:c.kdim()*n], c.shape(), cb)
	for ci := range c.cin {
		copy(din[(ci*b+i0)*hw:][:cb*hw], s.stage[ci*cb*hw:])
	}
}

// addTo adds src to dst element-wise (len(src) >= len(dst)).
func addTo(dst, src []float32) { kern.Add(dst, src[:len(dst)]) }

// outBase is the index of the first output of channel co, image i.
func (c *conv) outBase(co, i, b int) int {
	oh, ow := c.outHW()
	if c.flatten {
		return (i*c.cout + co) * oh * ow
	}
	return (co*b + i) * oh * ow
}

func (c *conv) forward(w, in, out []float32, b int, s *scratch) {
	cb := c.chunkSize(b)
	gh, gw := c.grid()
	kd := c.kdim()
	for i0 := 0; i0 < b; i0 += cb {
		nb := min(cb, b-i0)
		n := nb * gh * gw
		if c.wide {
			c.fillPad(in, b, i0, nb, s)
			kern.SgemmRows(c.cout, n, kd, w, kd, s.pad, s.boff, false, s.pre, n)
		} else {
			c.im2col(in, b, i0, nb, s)
			kern.Sgemm(false, false, c.cout, n, kd, w, kd, s.col, n, false, s.pre, n)
		}
		c.emit(w[c.cout*kd:][:c.cout], out, b, i0, nb, s)
	}
}

// emit turns the products of chunk i0..i0+nb-1 in s.pre into outputs: bias,
// ReLU and pooling (keeping the arg-max) or a copy of the valid grid part.
func (c *conv) emit(bias, out []float32, b, i0, nb int, s *scratch) {
	gh, gw := c.grid()
	oh, ow := c.convHW()
	g := gh * gw
	for co, bv := range bias {
		if c.pool {
			// the chunk's nb planes of channel co in one call: plane il
			// is at (co*nb+il)*g in pre, its outputs at outBase(co, i0+il)
			o := c.outBase(co, i0, b)
			step := c.outBase(co, i0+1, b) - o
			kern.MaxPool2Planes(out[o:], s.arg[o:], s.pre[co*nb*g:], nb, oh, ow, gw, g, step, bv, c.relu, int32(co*nb*g))
			continue
		}
		for il := range nb {
			base := (co*nb + il) * g
			src := s.pre[base:][:g:g]
			o := c.outBase(co, i0+il, b)
			for oy := range oh {
				dst := out[o+oy*ow:][:ow:ow]
				for ox, v := range src[oy*gw:][:ow] {
					v += bv
					if c.relu {
						v = max(v, 0)
					}
					dst[ox] = v
				}
			}
		}
	}
}

func (c *conv) backward(w, in, out, dout, din, g []float32, b int, s *scratch) {
	cb := c.chunkSize(b)
	gh, gw := c.grid()
	kd := c.kdim()
	clear(s.bsum)
	last := (b - 1) / cb * cb // first image of the last chunk, whose col/pad is in place
	for i0 := last; i0 >= 0; i0 -= cb {
		nb := min(cb, b-i0)
		n := nb * gh * gw
		c.routeGrad(out, dout, b, i0, nb, s)
		// dL/dW (+)= dpre (cout × n) · colᵀ (n × K)
		if c.wide {
			if i0 != last {
				c.fillPad(in, b, i0, nb, s) // pad holds a later chunk, or col2im's sums
			}
			kern.SgemmRowsT(c.cout, kd, n, s.pre, n, s.pad, s.boff, i0 != last, g, kd)
		} else {
			if i0 != last {
				c.im2col(in, b, i0, nb, s)
			}
			kern.Sgemm(false, true, c.cout, kd, n, s.pre, n, s.col, n, i0 != last, g, kd)
		}
		if din != nil {
			if need := kd * cb * gh * gw; len(s.col) < need {
				s.col = make([]float32, need)
			}
			// dcol (K × n) = Wᵀ (K × cout) · dpre (cout × n), into col
			kern.Sgemm(true, false, kd, n, c.cout, w, kd, s.pre, n, false, s.col, n)
			c.col2im(din, b, i0, nb, s)
		}
	}
	for co, v := range s.bsum {
		g[c.cout*kd+co] = float32(v)
	}
}

// routeGrad writes into s.pre the gradient w.r.t. the products of chunk
// i0..i0+nb-1 (zero on unused grid cells) and adds the bias gradient to
// s.bsum.
func (c *conv) routeGrad(out, dout []float32, b, i0, nb int, s *scratch) {
	gh, gw := c.grid()
	oh, ow := c.outHW()
	g := gh * gw
	dpre := s.pre[:c.cout*nb*g]
	if !c.pool {
		clear(dpre)
	}
	for co := range c.cout {
		if c.pool {
			// The chunk's nb planes of channel co in one call. The
			// windows cover the first 2oh rows of each plane (and +0 goes
			// into their columns past 2ow); on a wide grid the rows past
			// 2oh are cleared. The sum is the planes' sums added in order.
			o := c.outBase(co, i0, b)
			step := c.outBase(co, i0+1, b) - o
			s.bsum[co] += kern.MaxUnpool2Planes(dpre[co*nb*g:][:nb*g], dout[o:], out[o:], s.arg[o:], nb, oh, ow, gw, step, g, c.relu, int32(co*nb*g))
			continue
		}
		var sum float64
		for il := range nb {
			o := c.outBase(co, i0+il, b)
			d := dout[o:][: oh*ow : oh*ow]
			y := out[o:][: oh*ow : oh*ow]
			base := (co*nb + il) * g
			for oy := range oh {
				for ox := range ow {
					v := d[oy*ow+ox]
					if c.relu {
						v = keepIfPositive(v, y[oy*ow+ox])
					}
					dpre[base+oy*gw+ox] = v
					sum += float64(v)
				}
			}
		}
		s.bsum[co] += sum
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
		kern.AddBiasVec(out[i*l.out:][:l.out], bias, l.relu)
	}
}

func (l *linear) backward(w, in, out, dout, din, g []float32, b int, _ *scratch) {
	if l.relu {
		kern.ReLUMask(dout[:b*l.out], out[:b*l.out])
	}
	if g != nil {
		// dL/dW (out × in) = doutᵀ (out × b) · in (b × in)
		kern.Sgemm(true, false, l.out, l.in, b, dout, l.out, in, l.in, false, g, l.in)
		// the bias gradient: the rows of dout added in image order, a
		// vector at a time (the same float32 additions per element as a
		// scalar loop)
		gb := g[l.out*l.in:][:l.out]
		clear(gb)
		for i := range b {
			kern.Add(gb, dout[i*l.out:][:l.out])
		}
	}
	if din == nil {
		return
	}
	// dL/din (b × in) = dout (b × out) · W (out × in)
	kern.Sgemm(false, false, b, l.in, l.out, dout, l.out, w, l.in, false, din, l.in)
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
