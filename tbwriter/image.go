package tbwriter

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// Colorspace values of Summary.Image, from summary.proto: 1 grayscale,
// 2 grayscale + alpha, 3 RGB, 4 RGBA.
const (
	colorspaceGray = 1
	colorspaceRGB  = 3
	colorspaceRGBA = 4
)

// gridPadding is the gap, in pixels, between and around the cells of
// ImageGrid: 2, the default padding of torchvision.utils.make_grid.
const gridPadding = 2

// ImageValue encodes img as PNG in a Summary.Image value, the form PyTorch's
// add_image writes; TensorBoard's loaders convert it to the images plugin.
func ImageValue(tag string, img image.Image) (*tbpb.Summary_Value, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("tbwriter: image %q: %w", tag, err)
	}
	cs := colorspaceRGBA
	switch m := img.(type) {
	case *image.Gray, *image.Gray16:
		cs = colorspaceGray
	default:
		if o, ok := m.(interface{ Opaque() bool }); ok && o.Opaque() {
			cs = colorspaceRGB
		}
	}
	b := img.Bounds()
	return &tbpb.Summary_Value{Tag: tag, Value: &tbpb.Summary_Value_Image{Image: &tbpb.Summary_Image{
		Height:             int32(b.Dy()),
		Width:              int32(b.Dx()),
		Colorspace:         int32(cs),
		EncodedImageString: buf.Bytes(),
	}}}, nil
}

// AddImage logs img (PNG-encoded) under tag at step.
func (w *Writer) AddImage(tag string, step int64, img image.Image) error {
	v, err := ImageValue(tag, img)
	if err != nil {
		return err
	}
	return w.AddSummary(step, v)
}

// ImageGrid tiles imgs row by row into a grid of cols columns (cols < 1
// means one row), each cell as large as the largest image, with a 2-pixel
// black border as torchvision.utils.make_grid draws. It returns an empty
// image for no images.
func ImageGrid(imgs []image.Image, cols int) image.Image {
	if len(imgs) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 0, 0))
	}
	if cols < 1 || cols > len(imgs) {
		cols = len(imgs)
	}
	rows := (len(imgs) + cols - 1) / cols
	cw, ch := 0, 0
	for _, m := range imgs {
		cw = max(cw, m.Bounds().Dx())
		ch = max(ch, m.Bounds().Dy())
	}
	W := cols*(cw+gridPadding) + gridPadding
	H := rows*(ch+gridPadding) + gridPadding
	out := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
	for i, m := range imgs {
		x := gridPadding + (i%cols)*(cw+gridPadding)
		y := gridPadding + (i/cols)*(ch+gridPadding)
		b := m.Bounds()
		draw.Draw(out, image.Rect(x, y, x+b.Dx(), y+b.Dy()), m, b.Min, draw.Src)
	}
	return out
}
