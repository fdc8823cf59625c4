package kern

// CopyPadded is [PadImages] without the zeros: it copies the n images of
// h×w floats in src into the interiors of the n (h+2·pad)×(w+2·pad)
// images of dst, one after the other, and leaves every other float of dst
// as it was. A caller that keeps the padding +0 from one call to the next
// (LeNet-5's first convolution clears its padded buffer once per layout)
// saves clearing it each time, and the copy is one call of the row-copy
// kernel instead of one copy per row. It panics if a size is negative or
// a slice is too short.
func CopyPadded(dst, src []float32, n, h, w, pad int) {
	ph, pw := padShape(dst, src, n, h, w, pad)
	if n == 0 || h == 0 || w == 0 {
		return
	}
	copyRows(dst[pad*pw+pad:], src, n, ph*pw, h*w, h, pw, w, w)
}

// padShape checks the arguments of [PadImages] and [CopyPadded] (it panics
// as they are documented to) and returns the padded height and width.
func padShape(dst, src []float32, n, h, w, pad int) (ph, pw int) {
	if n < 0 || h < 0 || w < 0 || pad < 0 {
		panic(errConvShape)
	}
	ph, pw = h+2*pad, w+2*pad
	if len(src) < n*h*w {
		panic(errShortIn)
	}
	if len(dst) < n*ph*pw {
		panic(errShortCol)
	}
	return ph, pw
}
