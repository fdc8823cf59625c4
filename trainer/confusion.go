package trainer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/tbtrain/tbtrain/model"
)

// confusion is the confusion matrix of a test pass: confusion[t][p] counts
// the test images of true digit t that the model predicted as p.
type confusion [model.NumClasses][model.NumClasses]int

// total returns the number of images counted.
func (c *confusion) total() int {
	n := 0
	for t := range c {
		n += c.row(t)
	}
	return n
}

// row returns the number of images of true digit t.
func (c *confusion) row(t int) int {
	n := 0
	for _, v := range c[t] {
		n += v
	}
	return n
}

// correct returns the number of images predicted right (the diagonal).
func (c *confusion) correct() int {
	n := 0
	for t := range c {
		n += c[t][t]
	}
	return n
}

// max returns the largest count.
func (c *confusion) max() int {
	m := 0
	for t := range c {
		for _, v := range c[t] {
			m = max(m, v)
		}
	}
	return m
}

// recall formats the fraction of the images of true digit t predicted
// right, as a percentage with one decimal, or "-" for a digit with no image.
func (c *confusion) recall(t int) string {
	n := c.row(t)
	if n == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(c[t][t])/float64(n), 'f', 1, 64) + "%"
}

// markdown renders the matrix as a markdown table for TensorBoard's Text
// tab: rows are true digits, columns predicted digits, the diagonal in bold,
// and each row's recall in a last column.
func (c *confusion) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Confusion matrix of the %d test images: row = true digit, column = predicted digit; "+
		"%d right (%s).\n\n", c.total(), c.correct(), percent(c.correct(), c.total()))
	b.WriteString("| true \\ predicted |")
	for p := range model.NumClasses {
		fmt.Fprintf(&b, " %d |", p)
	}
	b.WriteString(" recall |\n|---|")
	for range model.NumClasses {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	for t := range model.NumClasses {
		fmt.Fprintf(&b, "| **%d** |", t)
		for p, v := range c[t] {
			if p == t {
				fmt.Fprintf(&b, " **%d** |", v)
			} else {
				fmt.Fprintf(&b, " %d |", v)
			}
		}
		fmt.Fprintf(&b, " %s |\n", c.recall(t))
	}
	return b.String()
}

func percent(k, n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(k)/float64(n), 'f', 2, 64) + "%"
}

// Layout of the confusion-matrix image, in pixels. The font is
// basicfont.Face7x13 (7 pixels per character, 13 per line).
const (
	cmCell    = 44 // side of a cell; "1135" (4 characters, 28 px) fits with room
	cmMargin  = 12
	cmCharW   = 7
	cmLineH   = 13
	cmGap     = 8  // between a label and what it labels
	cmBarW    = 16 // width of the colour bar
	cmRecallW = 7 * cmCharW
)

// Colours of the image.
var (
	cmWhite = color.RGBA{255, 255, 255, 255}
	cmBlack = color.RGBA{0, 0, 0, 255}
	cmInk   = color.RGBA{33, 33, 33, 255}
	cmFaint = color.RGBA{190, 190, 190, 255}
	cmGrid  = color.RGBA{224, 224, 224, 255}
)

// cmStops are the colours of the scale from the smallest non-zero count
// (t = 0) to the largest (t = 1): pale yellow, orange, red, dark purple, so
// that a few confusions stand out from the white of the empty cells and the
// dark diagonal. Our own choice of points, interpolated linearly in RGB.
var cmStops = []color.RGBA{
	{255, 241, 168, 255},
	{254, 178, 76, 255},
	{240, 59, 32, 255},
	{150, 20, 70, 255},
	{60, 10, 70, 255},
}

// The colours of the picture are computed with integers only, so that a
// run resumed on another CPU logs the same PNG bytes: with floating point,
// arm64 (where the compiler fuses a+b*c into one FMA) and amd64 (whose
// math.Log is assembly) rounded some mixes of two stops differently by one
// unit (a scale position of 0.6125 mixed to red 200 on amd64, 199 on arm64).

// cmScale maps a count v >= 1 to the scale position num/den in [0, 1] on a
// logarithmic scale, log(v)/log(maxv), so that the few confusions of a
// trained model (1-20 images) are not lost next to a diagonal of ~1000: 1
// is the palest colour (0/den), the largest count the darkest (den/den).
// Both logarithms are log2fix's fixed-point values.
func cmScale(v, maxv int) (num, den uint64) {
	if maxv <= 1 {
		return 1, 1
	}
	return log2fix(uint64(max(v, 1))), log2fix(uint64(maxv))
}

// log2fix returns log2(v) for v >= 1 in fixed point with 32 fraction bits,
// computed with integers: the integer part is the position of the highest
// bit, each fraction bit comes from squaring the mantissa (in [1, 2), 31
// fraction bits) and halving it when it reaches 2. The mantissa is
// truncated at each step, so the result is within 2^-28 of log2(v) and the
// same on every CPU; it never decreases as v grows.
func log2fix(v uint64) uint64 {
	ip := bits.Len64(v) - 1
	var m uint64 // in [2^31, 2^32): the mantissa v/2^ip with 31 fraction bits
	if ip <= 31 {
		m = v << (31 - ip)
	} else {
		m = v >> (ip - 31)
	}
	r := uint64(ip) << 32
	for bit := uint64(1) << 31; bit != 0; bit >>= 1 {
		m = m * m >> 31 // < 2^33: the square, in [1, 4)
		if m >= 1<<32 {
			m >>= 1
			r |= bit
		}
	}
	return r
}

// cmColour is the colour of scale position num/den (den > 0, clamped to
// [0, 1]): the two neighbouring stops mixed linearly in RGB, each channel
// rounded half up, in integers.
func cmColour(num, den uint64) color.RGBA {
	num = min(num, den)
	segs := uint64(len(cmStops) - 1)
	x := num * segs // position num/den * segs, as x/den
	i := min(x/den, segs-1)
	f := x - i*den // the fraction within segment i, as f/den
	a, b := cmStops[i], cmStops[i+1]
	mix := func(p, q uint8) uint8 {
		// round(p + f/den*(q-p)) = floor((2*(p*den + f*(q-p)) + den) / (2*den)),
		// the numerator >= 0 as the result lies between p and q.
		n := int64(p)*int64(den) + int64(f)*(int64(q)-int64(p))
		return uint8((2*n + int64(den)) / (2 * int64(den)))
	}
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// cellColour returns the fill of a cell with count v and the colour of its
// text: white cells for 0 (faint text), the scale otherwise, with black or
// white text, whichever contrasts more with the fill (darkText).
func cellColour(v, maxv int) (fill, text color.RGBA) {
	if v == 0 {
		return cmWhite, cmFaint
	}
	fill = cmColour(cmScale(v, maxv))
	if darkText(fill) {
		return fill, cmBlack
	}
	return fill, cmWhite
}

// darkText reports whether black text contrasts at least as much as white
// with the opaque fill c, by WCAG 2's contrast ratio (L1+0.05)/(L2+0.05):
// for a fill of relative luminance L, (L+0.05)/0.05 >= 1.05/(L+0.05) when
// (L+0.05)² >= 0.0525. One of the two colours thus always reaches a ratio
// of at least 1.05/sqrt(0.0525) = 4.58. L is WCAG 2's weighted sum
// 0.2126 R + 0.7152 G + 0.0722 B of the linearised channels, here in fixed
// point (scale 10^4 * 2^32, srgbLinear's values), and the comparison is
// made exactly in 128 bits.
func darkText(c color.RGBA) bool {
	lin := srgbLinear()
	l := 2126*lin[c.R] + 7152*lin[c.G] + 722*lin[c.B] // L * 10^4 * 2^32
	// (L*S + 0.05*S)² >= 0.0525*S² with S = 10^4 * 2^32, 0.05*S = 500 * 2^32
	// and 0.0525*S² = 5250000 * 2^64: compare the high word of the square.
	hi, _ := bits.Mul64(l+500<<32, l+500<<32)
	return hi >= 5250000
}

// srgbLinear returns, for each 8-bit sRGB channel value u, the linear light
// WCAG 2 defines for it (v = u/255: v/12.92 for v <= 0.04045, else
// ((v+0.055)/1.055)^2.4), as floor(2^32 * value), computed with integers:
// ((1000u+14025)/269025)^(12/5) is the largest y with
// y^5 * 269025^12 <= 2^160 * (1000u+14025)^12.
var srgbLinear = sync.OnceValue(func() *[256]uint64 {
	var t [256]uint64
	den := new(big.Int).Exp(big.NewInt(269025), big.NewInt(12), nil)
	for u := range uint64(256) {
		if u*100000 <= 4045*255 { // v <= 0.04045
			t[u] = (u << 32) * 100 / (255 * 1292)
			continue
		}
		rhs := new(big.Int).Exp(big.NewInt(int64(1000*u+14025)), big.NewInt(12), nil)
		rhs.Lsh(rhs, 160)
		lo, hi := uint64(0), uint64(1)<<32 // y^5*den <= rhs holds for lo, not for hi+1
		var y5 big.Int
		for lo < hi {
			mid := lo + (hi-lo+1)/2
			y5.SetUint64(mid)
			y5.Exp(&y5, big.NewInt(5), nil)
			if y5.Mul(&y5, den).Cmp(rhs) <= 0 {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		t[u] = lo
	}
	return &t
})

// image renders the matrix as a picture a person reads at a glance: a 10×10
// grid of cells with their counts, rows = true digit (labelled on the left),
// columns = predicted digit (labelled below), cells coloured on a
// logarithmic scale shown by a colour bar on the right, each row's recall
// beside it, and title above.
func (c *confusion) image(title string) *image.RGBA {
	const (
		n     = model.NumClasses
		gridW = n * cmCell
	)
	// Left to right: margin, rotated axis label, row digits, grid, recall
	// column, colour bar, its tick labels, margin.
	gx := cmMargin + cmLineH + cmGap + cmCharW + cmGap
	gy := cmMargin + cmLineH + cmGap + cmLineH + cmGap // title, then the "recall" heading row
	recallX := gx + gridW + cmGap
	barX := recallX + cmRecallW + 2*cmGap
	ticksW := len(strconv.Itoa(max(c.max(), 1))) * cmCharW
	w := barX + cmBarW + 4 + ticksW + cmMargin
	w = max(w, cmMargin+len(title)*cmCharW+cmMargin)
	h := gy + gridW + cmGap + cmLineH + cmGap + cmLineH + cmMargin

	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(cmWhite), image.Point{}, draw.Src)
	fill := func(r image.Rectangle, col color.Color) {
		draw.Draw(img, r, image.NewUniform(col), image.Point{}, draw.Src)
	}
	text := func(s string, x, y int, col color.Color) { // (x, y) = top left of the line
		d := font.Drawer{Dst: img, Src: image.NewUniform(col), Face: basicfont.Face7x13,
			Dot: fixed.P(x, y+basicfont.Face7x13.Ascent)}
		d.DrawString(s)
	}
	centred := func(s string, cx, y int, col color.Color) { text(s, cx-len(s)*cmCharW/2, y, col) }

	text(title, cmMargin, cmMargin, cmInk)

	maxv := c.max()
	for t := range n {
		y := gy + t*cmCell
		centred(strconv.Itoa(t), gx-cmGap-cmCharW/2, y+(cmCell-cmLineH)/2, cmInk)
		for p := range n {
			x := gx + p*cmCell
			f, tc := cellColour(c[t][p], maxv)
			fill(image.Rect(x, y, x+cmCell, y+cmCell), f)
			centred(strconv.Itoa(c[t][p]), x+cmCell/2, y+(cmCell-cmLineH)/2, tc)
		}
		text(c.recall(t), recallX, y+(cmCell-cmLineH)/2, cmInk)
	}
	// Thin grid lines between cells, and the diagonal outlined, so that the
	// correct predictions are found without reading the labels.
	for i := 0; i <= n; i++ {
		fill(image.Rect(gx+i*cmCell, gy, gx+i*cmCell+1, gy+gridW+1), cmGrid)
		fill(image.Rect(gx, gy+i*cmCell, gx+gridW+1, gy+i*cmCell+1), cmGrid)
	}
	for i := range n {
		r := image.Rect(gx+i*cmCell, gy+i*cmCell, gx+(i+1)*cmCell+1, gy+(i+1)*cmCell+1)
		outline(img, r, cmInk)
	}
	text("recall", recallX, gy-cmGap-cmLineH, cmInk)
	for p := range n {
		centred(strconv.Itoa(p), gx+p*cmCell+cmCell/2, gy+gridW+cmGap, cmInk)
	}
	centred("predicted digit", gx+gridW/2, gy+gridW+cmGap+cmLineH+cmGap, cmInk)
	// "true digit", read bottom to top, centred on the rows.
	label := rotatedText("true digit", cmInk)
	lb := label.Bounds()
	draw.Draw(img, lb.Add(image.Pt(cmMargin, gy+gridW/2-lb.Dy()/2)), label, image.Point{}, draw.Over)

	// Colour bar: the scale from 1 (bottom) to the largest count (top),
	// with ticks at 1, 10, 100, ... and at the largest count.
	for yy := range gridW {
		// cmBarSteps bands keep the picture within a 256-colour palette.
		// k = round(cmBarSteps * (1 - yy/(gridW-1))), rounded half up.
		k := (2*cmBarSteps*(gridW-1-yy) + gridW - 1) / (2 * (gridW - 1))
		fill(image.Rect(barX, gy+yy, barX+cmBarW, gy+yy+1), cmColour(uint64(k), cmBarSteps))
	}
	outline(img, image.Rect(barX, gy, barX+cmBarW, gy+gridW), cmInk)
	if maxv > 0 {
		ticks := []int{}
		for v := 1; v < maxv; v *= 10 {
			ticks = append(ticks, v)
		}
		ticks = append(ticks, maxv)
		lastY := math.MaxInt
		for i := len(ticks) - 1; i >= 0; i-- { // top down, skipping labels that would overlap
			v := ticks[i]
			// ty = gy + round((1 - num/den) * (gridW-1)), rounded half up.
			num, den := cmScale(v, maxv)
			ty := gy + int((2*(den-num)*(gridW-1)+den)/(2*den))
			if i < len(ticks)-1 && lastY-ty < cmLineH && ty-lastY < cmLineH {
				continue
			}
			fill(image.Rect(barX+cmBarW, ty, barX+cmBarW+3, ty+1), cmInk)
			ly := min(max(ty-cmLineH/2, gy-cmLineH/2), gy+gridW-cmLineH/2)
			text(strconv.Itoa(v), barX+cmBarW+4, ly, cmInk)
			lastY = ty
		}
	}
	text("count", barX, gy-cmGap-cmLineH, cmInk)
	return img
}

// cmBarSteps is the number of colour bands of the colour bar: 100 bands of
// 4-5 pixels look continuous, and with the at most 100 cell colours and
// the few of the text and lines the picture has fewer than 256 colours.
const cmBarSteps = 100

// paletted returns img as a paletted image if it has at most 256 colours
// (the picture of a confusion matrix does), img itself otherwise. The PNG
// of a paletted image is a quarter of the data and encodes several times
// faster, which matters at every epoch's end.
func paletted(img *image.RGBA) image.Image {
	b := img.Bounds()
	index := map[color.RGBA]uint8{}
	var pal color.Palette
	out := image.NewPaletted(b, nil)
	var last color.RGBA
	var li uint8
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if c == last && len(pal) > 0 { // runs of one colour are the rule
				out.SetColorIndex(x, y, li)
				continue
			}
			i, ok := index[c]
			if !ok {
				if len(pal) == 256 {
					return img
				}
				i = uint8(len(pal))
				index[c] = i
				pal = append(pal, c)
			}
			out.SetColorIndex(x, y, i)
			last, li = c, i
		}
	}
	out.Palette = pal
	return out
}

// outline draws the 1-pixel border of r (its last row and column included
// inside r).
func outline(img *image.RGBA, r image.Rectangle, col color.Color) {
	u := image.NewUniform(col)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
}

// rotatedText renders s turned 90° counter-clockwise (read bottom to top),
// on a transparent background.
func rotatedText(s string, col color.Color) *image.RGBA {
	w, h := len(s)*cmCharW, cmLineH
	flat := image.NewRGBA(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: flat, Src: image.NewUniform(col), Face: basicfont.Face7x13,
		Dot: fixed.P(0, basicfont.Face7x13.Ascent)}
	d.DrawString(s)
	out := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			// (x, y) of the flat text goes to (y, w-1-x).
			out.SetRGBA(y, w-1-x, flat.RGBAAt(x, y))
		}
	}
	return out
}
