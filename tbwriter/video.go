package tbwriter

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"math"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Video facts. PyTorch's add_video (torch/utils/tensorboard/summary.py,
// video and make_video) encodes the frames as an animated GIF with moviepy
// (ImageSequenceClip(...).write_gif at the given fps, looping forever) and
// logs it as a legacy Summary.Image with the frame size and colorspace 3
// for RGB, which TensorBoard's Images tab shows and animates. GIF frame
// delays are whole hundredths of a second (GIF89a specification, Graphic
// Control Extension), which bounds fps to (0, 100].
const (
	// DefaultVideoFPS is PyTorch's add_video default, fps=4.
	DefaultVideoFPS = 4

	maxGIFDelay = math.MaxUint16 // centiseconds, a 16-bit field
)

// GIF encodes frames (all of one size) as an animated GIF that loops
// forever, each frame shown for round(100/fps) hundredths of a second. A
// frame with at most 256 colors is stored exactly (its own palette);
// others are reduced to the 256-color Plan 9 palette with Floyd-Steinberg
// dithering (moviepy quantizes too, with other palettes). It returns an
// error for no frames, frames of different or empty size, fps outside
// (0, 100] or too slow for a 16-bit delay, or a GIF over MaxRecordSize.
func GIF(frames []image.Image, fps float64) ([]byte, error) {
	if len(frames) == 0 {
		return nil, fmt.Errorf("tbwriter: video: no frames")
	}
	if !(fps > 0 && fps <= 100) {
		return nil, fmt.Errorf("tbwriter: video: fps %v, want (0, 100] (GIF delays are whole 1/100 s)", fps)
	}
	delay := math.Round(100 / fps)
	if delay > maxGIFDelay {
		return nil, fmt.Errorf("tbwriter: video: fps %v is too slow for a GIF (at most %d/100 s a frame)", fps, maxGIFDelay)
	}
	b0 := frames[0].Bounds()
	if b0.Empty() {
		return nil, fmt.Errorf("tbwriter: video: frame 0 is empty")
	}
	if b0.Dx() > math.MaxUint16 || b0.Dy() > math.MaxUint16 {
		return nil, fmt.Errorf("tbwriter: video: %dx%d frames exceed GIF's 65535 px", b0.Dx(), b0.Dy())
	}
	g := &gif.GIF{LoopCount: 0}
	size := 0
	for i, f := range frames {
		b := f.Bounds()
		if b.Dx() != b0.Dx() || b.Dy() != b0.Dy() {
			return nil, fmt.Errorf("tbwriter: video: frame %d is %dx%d, frame 0 is %dx%d", i, b.Dx(), b.Dy(), b0.Dx(), b0.Dy())
		}
		size += b.Dx() * b.Dy()
		if size > MaxRecordSize {
			return nil, fmt.Errorf("tbwriter: video: %w: %d frames of %dx%d", ErrRecordTooLarge, len(frames), b.Dx(), b.Dy())
		}
		g.Image = append(g.Image, paletted(f))
		g.Delay = append(g.Delay, int(delay))
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		return nil, fmt.Errorf("tbwriter: video: %w", err)
	}
	if buf.Len() > MaxRecordSize-1024 {
		return nil, fmt.Errorf("tbwriter: video: %w: GIF of %d bytes", ErrRecordTooLarge, buf.Len())
	}
	return buf.Bytes(), nil
}

// paletted converts f to a paletted image at the origin: exact when it has
// at most 256 opaque colors, dithered to palette.Plan9 otherwise.
func paletted(f image.Image) *image.Paletted {
	b := f.Bounds()
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	seen := make(map[color.RGBA]uint8, 256)
	var pal color.Palette
	exact := true
	for y := b.Min.Y; y < b.Max.Y && exact; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := opaque(f.At(x, y))
			if _, ok := seen[c]; !ok {
				if len(pal) == 256 {
					exact = false
					break
				}
				seen[c] = uint8(len(pal))
				pal = append(pal, c)
			}
		}
	}
	if exact {
		p := image.NewPaletted(r, pal)
		for y := range r.Dy() {
			for x := range r.Dx() {
				p.SetColorIndex(x, y, seen[opaque(f.At(b.Min.X+x, b.Min.Y+y))])
			}
		}
		return p
	}
	p := image.NewPaletted(r, palette.Plan9)
	draw.FloydSteinberg.Draw(p, r, f, b.Min)
	return p
}

// opaque composites c over black, as a GIF frame without transparency shows it.
func opaque(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// VideoValue returns frames as the summary value PyTorch's add_video
// writes: a Summary.Image holding the animated GIF (see GIF), with the
// frame size and colorspace 3 (RGB).
func VideoValue(tag string, frames []image.Image, fps float64) (*tbpb.Summary_Value, error) {
	enc, err := GIF(frames, fps)
	if err != nil {
		return nil, fmt.Errorf("%w (tag %q)", err, tag)
	}
	b := frames[0].Bounds()
	return &tbpb.Summary_Value{Tag: tag, Value: &tbpb.Summary_Value_Image{Image: &tbpb.Summary_Image{
		Height:             int32(b.Dy()),
		Width:              int32(b.Dx()),
		Colorspace:         colorspaceRGB,
		EncodedImageString: enc,
	}}}, nil
}

// AddVideo logs frames as an animated GIF under tag at step, shown (and
// played) in TensorBoard's Images tab, as PyTorch's add_video does; fps is
// frames per second (PyTorch's default is DefaultVideoFPS).
func (w *Writer) AddVideo(tag string, step int64, frames []image.Image, fps float64) error {
	v, err := VideoValue(tag, frames, fps)
	if err != nil {
		return err
	}
	return w.AddSummary(step, v)
}

// VideoInfo describes an animated image value.
type VideoInfo struct {
	Width, Height int
	Frames        int
	// Delays are the frame durations in hundredths of a second.
	Delays []int
}

// VideoOf describes an image value that holds a GIF (an AddVideo or
// add_video value); ok is false for other values or a GIF that does not
// decode.
func VideoOf(v *tbpb.Summary_Value) (VideoInfo, bool) {
	enc := v.GetImage().GetEncodedImageString()
	if !bytes.HasPrefix(enc, []byte("GIF8")) {
		return VideoInfo{}, false
	}
	cfg, err := gif.DecodeConfig(bytes.NewReader(enc))
	if err != nil || cfg.Width*cfg.Height > MaxRecordSize {
		return VideoInfo{}, false
	}
	g, err := gif.DecodeAll(bytes.NewReader(enc))
	if err != nil {
		return VideoInfo{}, false
	}
	return VideoInfo{Width: g.Config.Width, Height: g.Config.Height, Frames: len(g.Image), Delays: g.Delay}, true
}
