package trainer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// trainedConfusion is the shape of a trained model's matrix: about 1000 per
// digit on the diagonal and a few confusions, one cell with 1135 images
// (the widest count of MNIST's test set), some zeros, a row with 1 error.
func trainedConfusion() *confusion {
	var c confusion
	for i, v := range []int{975, 1135, 1022, 1003, 970, 880, 948, 1017, 965, 995} {
		c[i][i] = v
	}
	c[0][6], c[1][8], c[2][7], c[3][5], c[4][9], c[5][3] = 2, 1, 5, 4, 8, 7
	c[6][0], c[7][2], c[8][3], c[9][4], c[9][7] = 4, 6, 3, 6, 4
	return &c
}

func TestConfusionCounts(t *testing.T) {
	c := trainedConfusion()
	if got, want := c.total(), 9910+50; got != want {
		t.Errorf("total = %d, want %d", got, want)
	}
	if got, want := c.correct(), 9910; got != want {
		t.Errorf("correct = %d, want %d", got, want)
	}
	if got := c.max(); got != 1135 {
		t.Errorf("max = %d, want 1135", got)
	}
	if got := c.recall(9); got != "99.0%" { // 995 / 1005
		t.Errorf("recall(9) = %q, want 99.0%%", got)
	}
	var empty confusion
	if got := empty.recall(3); got != "-" {
		t.Errorf("recall of a digit with no image = %q, want -", got)
	}
}

// TestConfusionMarkdown parses the table back: a header, an alignment row
// and ten rows whose cells are the counts (the diagonal in bold) and the
// recall.
func TestConfusionMarkdown(t *testing.T) {
	c := trainedConfusion()
	md := c.markdown()
	if !strings.Contains(md, "9960 test images") || !strings.Contains(md, "9910 right (99.50%)") {
		t.Errorf("summary line lacks the totals:\n%s", md)
	}
	var rows [][]string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "|") {
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		}
	}
	if len(rows) != 12 {
		t.Fatalf("%d table lines, want 12 (header, alignment, 10 digits):\n%s", len(rows), md)
	}
	wantHead := []string{`true \ predicted`, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "recall"}
	if strings.Join(rows[0], ",") != strings.Join(wantHead, ",") {
		t.Errorf("header %q, want %q", rows[0], wantHead)
	}
	for i, cell := range rows[1] {
		if want := "---:"; i > 0 && cell != want || i == 0 && cell != "---" {
			t.Errorf("alignment cell %d = %q", i, cell)
		}
	}
	for d := range 10 {
		r := rows[2+d]
		if len(r) != 12 {
			t.Fatalf("row %d has %d cells: %q", d, len(r), r)
		}
		if r[0] != "**"+strconv.Itoa(d)+"**" {
			t.Errorf("row %d label %q", d, r[0])
		}
		for p := range 10 {
			want := strconv.Itoa(c[d][p])
			if p == d {
				want = "**" + want + "**"
			}
			if r[1+p] != want {
				t.Errorf("row %d column %d = %q, want %q", d, p, r[1+p], want)
			}
		}
		if r[11] != c.recall(d) {
			t.Errorf("row %d recall %q, want %q", d, r[11], c.recall(d))
		}
	}
}

// cellRect returns the pixels of cell (true t, predicted p) of an image of
// c, found from the layout constants the way image() places the grid.
func gridOrigin() image.Point {
	return image.Pt(cmMargin+cmLineH+cmGap+cmCharW+cmGap, cmMargin+cmLineH+cmGap+cmLineH+cmGap)
}

func cellRect(t, p int) image.Rectangle {
	o := gridOrigin()
	return image.Rect(o.X+p*cmCell, o.Y+t*cmCell, o.X+(p+1)*cmCell, o.Y+(t+1)*cmCell)
}

// inkBox returns the bounding box of the pixels of colour ink inside r.
func inkBox(img *image.RGBA, r image.Rectangle, ink color.RGBA) image.Rectangle {
	var box image.Rectangle
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == ink {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

func TestConfusionImage(t *testing.T) {
	c := trainedConfusion()
	img := c.image("test/confusion  epoch 19  step 18740  accuracy 99.50%")
	maxv := c.max()
	for tr := range 10 {
		for p := range 10 {
			r := cellRect(tr, p)
			fill, text := cellColour(c[tr][p], maxv)
			// Away from the grid lines and the centred text, a cell is its fill.
			if got := img.RGBAAt(r.Min.X+3, r.Min.Y+3); got != fill {
				t.Errorf("cell (%d, %d) count %d: fill %v, want %v", tr, p, c[tr][p], got, fill)
			}
			// Its count is drawn centred in the text colour: as many
			// 7-pixel characters wide as it has digits, 1-9 pixels high.
			inner := r.Inset(2)
			box := inkBox(img, inner, text)
			n := len(strconv.Itoa(c[tr][p]))
			if box.Empty() || box.Dx() < 7*n-4 || box.Dx() > 7*n || box.Dy() < 7 || box.Dy() > 10 {
				t.Errorf("cell (%d, %d) count %d: text box %v, want %d characters", tr, p, c[tr][p], box, n)
				continue
			}
			if cx, cy := (box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2; abs(cx-(r.Min.X+r.Max.X)/2) > 3 || abs(cy-(r.Min.Y+r.Max.Y)/2) > 3 {
				t.Errorf("cell (%d, %d): text centred at (%d, %d), cell centre (%d, %d)", tr, p, cx, cy,
					(r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
			}
		}
		// The row's digit is drawn left of the grid.
		r := cellRect(tr, 0)
		label := image.Rect(r.Min.X-cmGap-cmCharW-2, r.Min.Y, r.Min.X-1, r.Max.Y)
		if inkBox(img, label, cmInk).Empty() {
			t.Errorf("row %d has no label left of the grid", tr)
		}
	}
	// Column digits below the grid, one per column.
	for p := range 10 {
		r := cellRect(9, p)
		if inkBox(img, image.Rect(r.Min.X, r.Max.Y+2, r.Max.X, r.Max.Y+cmGap+cmLineH), cmInk).Empty() {
			t.Errorf("column %d has no label below the grid", p)
		}
	}
	// Equal counts look equal; the same matrix gives the same pixels.
	a, b := img.SubImage(cellRect(6, 0)).(*image.RGBA), img.SubImage(cellRect(3, 5)).(*image.RGBA) // both 4
	if !sameRGBA(a, b) {
		t.Error("two cells with count 4 differ")
	}
	if again := c.image("test/confusion  epoch 19  step 18740  accuracy 99.50%"); !bytes.Equal(again.Pix, img.Pix) {
		t.Error("the same matrix rendered twice differs")
	}
	// The paletted copy the trainer logs has the same pixels.
	pi, ok := paletted(img).(*image.Paletted)
	if !ok {
		t.Fatal("the picture has more than 256 colours")
	}
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			if got, want := color.RGBAModel.Convert(pi.At(x, y)).(color.RGBA), img.RGBAAt(x, y); got != want {
				t.Fatalf("paletted pixel (%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
	if *writeConfusion != "" {
		var buf bytes.Buffer
		if err := png.Encode(&buf, pi); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*writeConfusion, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var writeConfusion = flag.String("confusion-png", "", "write TestConfusionImage's picture to this file, to look at")

func sameRGBA(a, b *image.RGBA) bool {
	if a.Rect.Dx() != b.Rect.Dx() || a.Rect.Dy() != b.Rect.Dy() {
		return false
	}
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			if a.RGBAAt(a.Rect.Min.X+x, a.Rect.Min.Y+y) != b.RGBAAt(b.Rect.Min.X+x, b.Rect.Min.Y+y) {
				return false
			}
		}
	}
	return true
}

func abs(x int) int { return max(x, -x) }

// TestConfusionScale: darker means more (luminance falls as the count
// grows), every count is readable on its cell (WCAG contrast >= 4.5, the AA
// level for normal text) and the colour bar spans the scale.
func TestConfusionScale(t *testing.T) {
	const maxv = 1135
	prev := 2.0 // above any luminance
	for v := 1; v <= maxv; v++ {
		fill, text := cellColour(v, maxv)
		// Non-increasing, but for the rounding of a channel to 8 bits
		// (one step of blue moves the luminance by < 0.001).
		if l := luminance(fill); l > prev+0.001 {
			t.Errorf("count %d: luminance %.4f above count %d's %.4f", v, l, v-1, prev)
		}
		prev = luminance(fill)
		if cr := contrast(fill, text); cr < 4.58 {
			t.Errorf("count %d: text %v on %v has contrast %.2f, want >= 4.5", v, text, fill, cr)
		}
	}
	// Each tenfold count is clearly darker.
	for v := 1; v*10 <= maxv; v *= 10 {
		a, _ := cellColour(v, maxv)
		b, _ := cellColour(v*10, maxv)
		if contrast(a, b) < 1.5 {
			t.Errorf("counts %d and %d: colours %v and %v too alike (contrast %.2f)", v, 10*v, a, b, contrast(a, b))
		}
	}
	if f, _ := cellColour(0, maxv); f != cmWhite {
		t.Errorf("an empty cell is %v, want white", f)
	}
	if f, _ := cellColour(maxv, maxv); f != cmStops[len(cmStops)-1] {
		t.Errorf("the largest count is %v, want the darkest stop %v", f, cmStops[len(cmStops)-1])
	}
	if f, _ := cellColour(1, maxv); f != cmStops[0] {
		t.Errorf("a count of 1 is %v, want the palest stop %v", f, cmStops[0])
	}
	// A matrix with one non-zero cell (max 1) and an empty one render.
	var one, empty confusion
	one[3][3] = 1
	for _, c := range []*confusion{&one, &empty} {
		img := c.image("x")
		if img.Bounds().Empty() {
			t.Error("empty image")
		}
	}
	if f, _ := cellColour(1, 1); f != cmStops[len(cmStops)-1] {
		t.Errorf("the only count of a matrix with max 1 is %v, want the darkest stop", f)
	}
}

// TestConfusionColourBarTicks: the bar's tick labels are the powers of ten
// below the largest count and the largest count itself.
func TestConfusionColourBarTicks(t *testing.T) {
	c := trainedConfusion()
	img := c.image("t")
	o := gridOrigin()
	barX := o.X + 10*cmCell + cmGap + cmRecallW + 2*cmGap
	// Tick marks are 3 pixels of ink right of the bar.
	var ticks []int
	for y := o.Y; y < o.Y+10*cmCell; y++ {
		if img.RGBAAt(barX+cmBarW+1, y) == cmInk && img.RGBAAt(barX+cmBarW+2, y) == cmInk {
			ticks = append(ticks, y)
		}
	}
	// 1, 10, 100, 1000 and 1135; 1000 and 1135 are 5 pixels apart, so the
	// 1000 label is skipped (labels would overlap) and 4 ticks remain.
	if len(ticks) != 4 {
		t.Errorf("%d tick marks at rows %v, want 4", len(ticks), ticks)
	}
}

// contrast is the WCAG 2 contrast ratio of two opaque colours,
// (L1+0.05)/(L2+0.05) with L1 >= L2 their relative luminances, in floating
// point: the definition the trainer's integer arithmetic is checked against.
func contrast(a, b color.RGBA) float64 {
	la, lb := luminance(a)+0.05, luminance(b)+0.05
	return max(la, lb) / min(la, lb)
}

// luminance is the relative luminance of an sRGB colour (WCAG 2's
// definition: linearised channels weighted 0.2126, 0.7152, 0.0722).
func luminance(c color.RGBA) float64 {
	return 0.2126*linearFloat(c.R) + 0.7152*linearFloat(c.G) + 0.0722*linearFloat(c.B)
}

func linearFloat(u uint8) float64 {
	v := float64(u) / 255
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// TestConfusionIntegerArithmetic: the integer logarithm, channel
// linearisation, colour mix and text-colour choice of the picture agree
// with their floating-point definitions (to within their fixed-point
// resolution; the text colour exactly wherever the two contrasts are not
// a near tie).
func TestConfusionIntegerArithmetic(t *testing.T) {
	prev := uint64(0)
	for v := uint64(1); v <= 1<<20; v++ {
		got := log2fix(v)
		if d := math.Abs(float64(got)/(1<<32) - math.Log2(float64(v))); d > 1.0/(1<<28) {
			t.Fatalf("log2fix(%d) = %v, log2 = %v", v, float64(got)/(1<<32), math.Log2(float64(v)))
		}
		if got < prev {
			t.Fatalf("log2fix(%d) < log2fix(%d)", v, v-1)
		}
		prev = got
	}
	for _, v := range []uint64{1 << 40, 1<<63 + 12345, math.MaxUint64} {
		if d := math.Abs(float64(log2fix(v))/(1<<32) - math.Log2(float64(v))); d > 1.0/(1<<27) {
			t.Errorf("log2fix(%d) off by %g", v, d)
		}
	}
	lin := srgbLinear()
	for u := range 256 {
		want := linearFloat(uint8(u)) * (1 << 32)
		if d := float64(lin[u]) - want; d > 0 || d < -2 {
			t.Errorf("srgbLinear[%d] = %d, want floor(%f)", u, lin[u], want)
		}
	}
	if lin[0] != 0 || lin[255] != 1<<32 {
		t.Errorf("srgbLinear[0], [255] = %d, %d, want 0 and 2^32", lin[0], lin[255])
	}
	for k := uint64(0); k <= 10000; k++ {
		got := cmColour(k, 10000)
		x := float64(k) / 10000 * float64(len(cmStops)-1)
		i := min(int(x), len(cmStops)-2)
		f := x - float64(i)
		a, b := cmStops[i], cmStops[i+1]
		for ch, pq := range [][3]uint8{{a.R, b.R, got.R}, {a.G, b.G, got.G}, {a.B, b.B, got.B}} {
			want := float64(pq[0]) + f*(float64(pq[1])-float64(pq[0]))
			if math.Abs(float64(pq[2])-want) > 0.5+1e-9 {
				t.Fatalf("cmColour(%d/10000) channel %d = %d, want round(%f)", k, ch, pq[2], want)
			}
		}
	}
	// The text colour: every colour of the scale and a grid of others.
	check := func(c color.RGBA) {
		cb, cw := contrast(c, cmBlack), contrast(c, cmWhite)
		if math.Abs(cb-cw) < 1e-6 {
			return // a tie within float error: either is right
		}
		if got, want := darkText(c), cb >= cw; got != want {
			t.Errorf("darkText(%v) = %v; contrast with black %.6f, with white %.6f", c, got, cb, cw)
		}
	}
	for k := uint64(0); k <= 10000; k++ {
		check(cmColour(k, 10000))
	}
	for r := 0; r < 256; r += 5 {
		for g := 0; g < 256; g += 3 {
			for b := 0; b < 256; b += 17 {
				check(color.RGBA{uint8(r), uint8(g), uint8(b), 255})
			}
		}
	}
}

// TestConfusionPicturePortable: the colours of the scale, the cells of
// every matrix up to MNIST's largest count and the PNG the trainer logs for
// trainedConfusion hash to the same value on every architecture (the qemu
// run checks linux/arm64). When the colour arithmetic was floating point,
// arm64 mixed scale positions such as 49000/80000 one unit darker.
// After an intended change of the picture, the new hash is in the failure.
func TestConfusionPicturePortable(t *testing.T) {
	const want = "5ee30bac8426a9cb768d1ec8fce71fdc7fbca4b736a5e29fd2ac28286bbd63ef"
	h := sha256.New()
	for k := uint64(0); k <= 80000; k++ {
		c := cmColour(k, 80000)
		h.Write([]byte{c.R, c.G, c.B})
	}
	for maxv := 1; maxv <= 1135; maxv++ {
		for v := 0; v <= maxv; v++ {
			f, tc := cellColour(v, maxv)
			h.Write([]byte{f.R, f.G, f.B, tc.R})
		}
	}
	c := trainedConfusion()
	var buf bytes.Buffer
	if err := png.Encode(&buf, paletted(c.image("test/confusion  epoch 19  step 18740  accuracy 99.50%"))); err != nil {
		t.Fatal(err)
	}
	h.Write(buf.Bytes())
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("colours and picture hash to %s, want %s", got, want)
	}
}

func TestPalettedFallsBack(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 1))
	for x := range 300 {
		img.SetRGBA(x, 0, color.RGBA{uint8(x), uint8(x / 256), 0, 255})
	}
	if _, ok := paletted(img).(*image.RGBA); !ok {
		t.Error("300 colours: want the RGBA image back")
	}
	small := img.SubImage(image.Rect(10, 0, 266, 1)).(*image.RGBA)
	p, ok := paletted(small).(*image.Paletted)
	if !ok || len(p.Palette) != 256 || p.Bounds() != small.Bounds() {
		t.Fatalf("256 colours: got %T", paletted(small))
	}
	for x := 10; x < 266; x++ {
		if got := color.RGBAModel.Convert(p.At(x, 0)); got != small.RGBAAt(x, 0) {
			t.Fatalf("pixel %d: %v, want %v", x, got, small.RGBAAt(x, 0))
		}
	}
}
