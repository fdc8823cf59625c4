package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/tbtrain/tbtrain/tbwriter"
)

func main() {
	log.SetFlags(0)
	out := flag.String("o", "curves.png", "write the picture to `FILE`")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: plotcurves [-o FILE] RUNDIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out); err != nil {
		log.Fatalf("plotcurves: %v", err)
	}
}

// series is one curve: its tag, colour and points.
type series struct {
	tag  string
	col  color.RGBA
	x, y []float64
}

func run(dir, out string) error {
	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		return err
	}
	var r *tbwriter.Run
	for _, c := range runs {
		if c.Name == "." {
			r = c
		}
	}
	if r == nil {
		return fmt.Errorf("%s: no event files in the directory itself", dir)
	}
	img, err := plot(r.Series(tbwriter.PythonPurge), filepath.Base(filepath.Clean(dir)))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var (
	blue   = color.RGBA{31, 119, 180, 255} // the first two colours of the common "tab10" palette
	orange = color.RGBA{255, 127, 14, 255}
	grey   = color.RGBA{200, 200, 200, 255}
	black  = color.RGBA{0, 0, 0, 255}
)

// plot draws the accuracy panel above the loss panel.
func plot(tags map[string][]tbwriter.Point, title string) (*image.RGBA, error) {
	get := func(tag string, col color.RGBA, scale float64) (series, error) {
		s := series{tag: tag, col: col}
		for _, p := range tags[tag] {
			v, ok := tbwriter.ScalarOf(p.Value)
			if !ok {
				return s, fmt.Errorf("tag %s: step %d holds no scalar", tag, p.Step)
			}
			s.x, s.y = append(s.x, float64(p.Step)), append(s.y, scale*v)
		}
		if len(s.x) == 0 {
			return s, fmt.Errorf("no %s values", tag)
		}
		return s, nil
	}
	acc, err := get("test/acc", blue, 100)
	if err != nil {
		return nil, err
	}
	trainLoss, err1 := get("train/loss", blue, 1)
	testLoss, err2 := get("test/loss", orange, 1)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	const w, h = 640, 520
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	last := acc.y[len(acc.y)-1]
	text(img, 10, 4, black, fmt.Sprintf("%s: test accuracy %.2f %% after %d epochs", title, last, len(acc.y)))
	panel(img, image.Rect(60, 44, w-20, 254), "test/acc (%)", []series{acc}, false)
	panel(img, image.Rect(60, 294, w-20, h-40), "loss (epoch means)", []series{trainLoss, testLoss}, true)
	text(img, w/2-40, h-18, black, "global step")
	return img, nil
}

// panel draws the curves in r with axes, grid lines, tick labels and a
// legend, at the top right or (for rising curves) the bottom right.
func panel(img *image.RGBA, r image.Rectangle, ylabel string, ss []series, legendTop bool) {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for i := range s.x {
			xmin, xmax = min(xmin, s.x[i]), max(xmax, s.x[i])
			ymin, ymax = min(ymin, s.y[i]), max(ymax, s.y[i])
		}
	}
	xmin = 0
	if ymax == ymin {
		ymax = ymin + 1
	}
	pad := (ymax - ymin) * 0.05
	ymin, ymax = ymin-pad, ymax+pad
	px := func(x float64) int { return r.Min.X + int(math.Round((x-xmin)/(xmax-xmin)*float64(r.Dx()))) }
	py := func(y float64) int { return r.Max.Y - int(math.Round((y-ymin)/(ymax-ymin)*float64(r.Dy()))) }
	for i := 0; i <= 4; i++ { // 5 horizontal grid lines with their values
		y := ymin + (ymax-ymin)*float64(i)/4
		line(img, r.Min.X, py(y), r.Max.X, py(y), grey)
		text(img, r.Min.X-56, py(y)-7, black, fmt.Sprintf("%7.3f", y))
	}
	for i := 0; i <= 4; i++ {
		x := xmin + (xmax-xmin)*float64(i)/4
		line(img, px(x), r.Max.Y, px(x), r.Max.Y+4, black)
		text(img, px(x)-14, r.Max.Y+6, black, fmt.Sprintf("%.0f", x))
	}
	line(img, r.Min.X, r.Min.Y, r.Min.X, r.Max.Y, black)
	line(img, r.Min.X, r.Max.Y, r.Max.X, r.Max.Y, black)
	text(img, r.Min.X+4, r.Min.Y-16, black, ylabel)
	for k, s := range ss {
		for i := 1; i < len(s.x); i++ {
			thick(img, px(s.x[i-1]), py(s.y[i-1]), px(s.x[i]), py(s.y[i]), s.col)
		}
		lx, ly := r.Max.X-150, r.Min.Y+8+16*k
		if !legendTop {
			ly = r.Max.Y - 12 - 16*(len(ss)-k)
		}
		thick(img, lx, ly+6, lx+20, ly+6, s.col)
		text(img, lx+26, ly, black, s.tag)
	}
}

// line draws a one-pixel line (DDA: one dot per step of the longer axis).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		img.SetRGBA(x0+(x1-x0)*i/n, y0+(y1-y0)*i/n, c)
	}
}

// thick draws a line two pixels wide.
func thick(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	line(img, x0, y0, x1, y1, c)
	line(img, x0, y0+1, x1, y1+1, c)
}

func abs(a int) int { return max(a, -a) }

// text draws s with its top-left corner at (x, y).
func text(img *image.RGBA, x, y int, c color.RGBA, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y+basicfont.Face7x13.Ascent)}
	d.DrawString(s)
}
