package kern

// Panic messages of the im2col kernels.
const (
	errConvShape = "kern: bad ConvShape"
	errShortIn   = "kern: image slice too short"
	errShortCol  = "kern: col slice too short"
)

// ConvShape describes the input side of a stride-1 2-D convolution
// (cross-correlation, as PyTorch's Conv2d with stride 1): C channels of H×W
// pixels, a K×K window and Pad zero pixels on every side.
//
// Images are channel-major: pixel (c, i, y, x) of image i of a batch of b
// is at c*b*H*W + i*H*W + y*W + x. The im2col matrix has C*K*K rows, row
// (c*K+ky)*K+kx, and b*OH*OW columns, column i*OH*OW + oy*OW + ox.
type ConvShape struct {
	C, H, W, K, Pad int
}

// Out returns the output size OH = H+2·Pad−K+1, OW = W+2·Pad−K+1.
func (s ConvShape) Out() (oh, ow int) {
	return s.H + 2*s.Pad - s.K + 1, s.W + 2*s.Pad - s.K + 1
}

// check panics unless s is a valid shape and in, col can hold b images.
func (s ConvShape) check(in, col []float32, b int) {
	oh, ow := s.Out()
	if s.C < 1 || s.H < 1 || s.W < 1 || s.K < 1 || s.Pad < 0 || s.Pad >= s.K || oh < 1 || ow < 1 || b < 0 {
		panic(errConvShape)
	}
	if len(in) < s.C*b*s.H*s.W {
		panic(errShortIn)
	}
	if len(col) < s.C*s.K*s.K*b*oh*ow {
		panic(errShortCol)
	}
}

// Im2col fills col with the input patches of b images:
//
//	col[(c*K+ky)*K+kx][i*OH*OW + oy*OW + ox] = in[c][i][oy+ky−Pad][ox+kx−Pad]
//
// or +0 where that pixel is outside the image. A convolution's output is
// then W·col (see [Sgemm]). It panics on an invalid shape (Pad >= K, an
// empty output, ...) or if in or col is too short.
func Im2col(col, in []float32, s ConvShape, b int) {
	s.check(in, col, b)
	if convAsm(false, col, in, s, b) {
		return
	}
	oh, ow := s.Out()
	n := b * oh * ow
	hw := s.H * s.W
	for c := range s.C {
		for ky := range s.K {
			// Output rows whose input row oy+ky−Pad is inside the image.
			y0 := max(0, s.Pad-ky)
			y1 := min(oh, s.H+s.Pad-ky)
			for kx := range s.K {
				row := col[((c*s.K+ky)*s.K+kx)*n:][:n]
				x0 := max(0, s.Pad-kx)
				x1 := min(ow, s.W+s.Pad-kx)
				if s.Pad > 0 || y0 >= y1 || x0 >= x1 {
					// Padding: zero the row, then copy the inside.
					clear(row)
				}
				if y0 >= y1 || x0 >= x1 || b == 0 {
					continue
				}
				// Image i's patch block starts at i*OH*OW in the row and
				// its channel plane at (c*b+i)*H*W in the input.
				src := in[c*b*hw+(y0+ky-s.Pad)*s.W+x0+kx-s.Pad:]
				copyRows(row[y0*ow+x0:], src, b, oh*ow, hw, y1-y0, ow, s.W, x1-x0)
			}
		}
	}
}

// Col2im is the adjoint of [Im2col]: it OVERWRITES in with
//
//	in[c][i][y][x] = Σ col[(c*K+ky)*K+kx][i*OH*OW + oy*OW + ox]
//
// over the entries that Im2col copies from pixel (c, i, y, x), added in
// float32 to +0 in increasing row order. This is the input gradient of a
// convolution given the gradient of its im2col matrix. It panics like
// Im2col.
func Col2im(in, col []float32, s ConvShape, b int) {
	s.check(in, col, b)
	if convAsm(true, col, in, s, b) {
		return
	}
	oh, ow := s.Out()
	n := b * oh * ow
	hw := s.H * s.W
	clear(in[:s.C*b*hw])
	for c := range s.C {
		for ky := range s.K {
			y0 := max(0, s.Pad-ky)
			y1 := min(oh, s.H+s.Pad-ky)
			if y0 >= y1 {
				continue
			}
			for kx := range s.K {
				row := col[((c*s.K+ky)*s.K+kx)*n:][:n]
				x0 := max(0, s.Pad-kx)
				x1 := min(ow, s.W+s.Pad-kx)
				if x0 >= x1 {
					continue
				}
				if b == 0 {
					continue
				}
				dst := in[c*b*hw+(y0+ky-s.Pad)*s.W+x0+kx-s.Pad:]
				addRows(dst, row[y0*ow+x0:], b, hw, oh*ow, y1-y0, s.W, ow, x1-x0)
			}
		}
	}
}

// copyRows copies blocks×rows segments of width floats: segment (k, r)
// goes from src[k*sblock+r*sstride:] to dst[k*dblock+r*dstride:]. The
// segments must be inside the slices and must not overlap in dst.
func copyRows(dst, src []float32, blocks, dblock, sblock, rows, dstride, sstride, width int) {
	if blocks <= 0 || rows <= 0 || width <= 0 {
		return
	}
	_ = dst[(blocks-1)*dblock+(rows-1)*dstride+width-1]
	_ = src[(blocks-1)*sblock+(rows-1)*sstride+width-1]
	if copyRowsAsm(dst, src, blocks, dblock, sblock, rows, dstride, sstride, width) {
		return
	}
	for k := range blocks {
		for r := range rows {
			d, s := k*dblock+r*dstride, k*sblock+r*sstride
			copy(dst[d:d+width], src[s:s+width])
		}
	}
}

// addRows is copyRows with dst[...] += src[...] instead of a copy.
func addRows(dst, src []float32, blocks, dblock, sblock, rows, dstride, sstride, width int) {
	if blocks <= 0 || rows <= 0 || width <= 0 {
		return
	}
	_ = dst[(blocks-1)*dblock+(rows-1)*dstride+width-1]
	_ = src[(blocks-1)*sblock+(rows-1)*sstride+width-1]
	if addRowsAsm(dst, src, blocks, dblock, sblock, rows, dstride, sstride, width) {
		return
	}
	for k := range blocks {
		for r := range rows {
			d := dst[k*dblock+r*dstride:][:width]
			s := src[k*sblock+r*sstride:][:width]
			for j, v := range s {
				d[j] += v
			}
		}
	}
}

// PadImages copies n images of h×w floats, stored one after the other in
// src, into dst as n images of (h+2·pad)×(w+2·pad) floats, one after the
// other, each surrounded by pad rows and columns of +0. It panics if a size
// is negative or a slice is too short.
func PadImages(dst, src []float32, n, h, w, pad int) {
	ph, pw := padShape(dst, src, n, h, w, pad)
	if pad > 0 {
		clear(dst[:n*ph*pw])
	}
	CopyPadded(dst, src, n, h, w, pad)
}
