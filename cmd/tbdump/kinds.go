package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tbtrain/tbtrain/internal/jsonfloat"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// describeKind renders the values of the plugins whose data is more than a
// number or a string (PR curves, audio, GIF videos, meshes, custom scalar
// layouts), and reports whether v is one of them.
func describeKind(v *tbpb.Summary_Value, plugin string) (string, bool) {
	if plugin == "pr_curves" {
		if c, ok := tbwriter.PRCurveOf(v); ok {
			i, t := prMiddle(c)
			return fmt.Sprintf("pr_curve thresholds=%d at %s: precision=%s recall=%s",
				c.Thresholds(), formatShort(t), formatShort(c.Precision[i]), formatShort(c.Recall[i])), true
		}
	}
	if a, ok := tbwriter.AudioOf(v); ok {
		return fmt.Sprintf("%sHz channels=%d frames=%d seconds=%s %q %dB", formatShort(a.SampleRate),
			a.Channels, a.Frames, formatShort(a.Seconds()), a.ContentType, len(a.Encoded)), true
	}
	if vi, ok := tbwriter.VideoOf(v); ok {
		im := v.GetImage()
		return fmt.Sprintf("%dx%d colorspace=%d gif %dB frames=%d", im.GetWidth(), im.GetHeight(),
			im.GetColorspace(), len(im.GetEncodedImageString()), vi.Frames), true
	}
	if m, ok := tbwriter.MeshOf(v); ok {
		return fmt.Sprintf("mesh %s %s: %d %s", displayTag(m.Data.GetName()), m.Data.GetContentType(),
			len(m.Values)/3, meshNoun(m.Data.GetContentType())), true
	}
	if plugin == "custom_scalars" {
		if l, ok := tbwriter.CustomScalarsOf(v); ok {
			charts := 0
			for _, c := range l.GetCategory() {
				charts += len(c.GetChart())
			}
			cats := plural(len(l.GetCategory()), "category")
			if len(l.GetCategory()) != 1 {
				cats = fmt.Sprintf("%d categories", len(l.GetCategory()))
			}
			return fmt.Sprintf("layout: %s, %s", cats, plural(charts, "chart")), true
		}
	}
	return "", false
}

// prMiddle returns the middle threshold's index and value i/(n-1).
func prMiddle(c tbwriter.PRCounts) (int, float64) {
	n := c.Thresholds()
	i := (n - 1) / 2
	if n < 2 {
		return 0, 0
	}
	return i, float64(i) / float64(n-1)
}

func meshNoun(ct tbpb.MeshPluginData_ContentType) string {
	switch ct {
	case tbpb.MeshPluginData_VERTEX:
		return "vertices"
	case tbpb.MeshPluginData_FACE:
		return "faces"
	case tbpb.MeshPluginData_COLOR:
		return "colors"
	}
	return "points"
}

// The --json fields of the kinds above; each is set only for its kind.
type jsonPRCurve struct {
	Thresholds int             `json:"thresholds"`
	Threshold  jsonfloat.Float `json:"middle_threshold"`
	Precision  jsonfloat.Float `json:"precision"`
	Recall     jsonfloat.Float `json:"recall"`
}

type jsonAudio struct {
	SampleRate jsonfloat.Float `json:"sample_rate"`
	Channels   int64           `json:"channels"`
	Frames     int64           `json:"frames"`
	Seconds    jsonfloat.Float `json:"seconds"`
}

type jsonVideo struct {
	Frames int `json:"frames"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

type jsonMesh struct {
	Name    string `json:"name"`
	Content string `json:"content"`
	Count   int    `json:"count"`
}

type jsonLayout struct {
	Categories int `json:"categories"`
	Charts     int `json:"charts"`
}

// jsonKinds holds the kind-specific fields of a value.
type jsonKinds struct {
	PRCurve *jsonPRCurve `json:"pr_curve,omitempty"`
	Audio   *jsonAudio   `json:"audio,omitempty"`
	Video   *jsonVideo   `json:"video,omitempty"`
	Mesh    *jsonMesh    `json:"mesh,omitempty"`
	Layout  *jsonLayout  `json:"layout,omitempty"`
}

func newJSONKinds(v *tbpb.Summary_Value, plugin string) jsonKinds {
	var k jsonKinds
	if c, ok := tbwriter.PRCurveOf(v); ok && plugin == "pr_curves" {
		i, t := prMiddle(c)
		k.PRCurve = &jsonPRCurve{Thresholds: c.Thresholds(), Threshold: jsonfloat.Float(t),
			Precision: jsonfloat.Float(c.Precision[i]), Recall: jsonfloat.Float(c.Recall[i])}
	}
	if a, ok := tbwriter.AudioOf(v); ok {
		k.Audio = &jsonAudio{SampleRate: jsonfloat.Float(a.SampleRate), Channels: a.Channels, Frames: a.Frames, Seconds: jsonfloat.Float(a.Seconds())}
	}
	if vi, ok := tbwriter.VideoOf(v); ok {
		k.Video = &jsonVideo{Frames: vi.Frames, Width: vi.Width, Height: vi.Height}
	}
	if m, ok := tbwriter.MeshOf(v); ok {
		k.Mesh = &jsonMesh{Name: m.Data.GetName(), Content: m.Data.GetContentType().String(), Count: len(m.Values) / 3}
	}
	if l, ok := tbwriter.CustomScalarsOf(v); ok && plugin == "custom_scalars" {
		k.Layout = &jsonLayout{Categories: len(l.GetCategory())}
		for _, c := range l.GetCategory() {
			k.Layout.Charts += len(c.GetChart())
		}
	}
	return k
}

// graphNodes returns the node count of a graph_def event.
func graphNodes(e *tbpb.Event) (int, bool) {
	gd, ok := tbwriter.GraphOf(e)
	if !ok {
		return 0, false
	}
	return len(gd.GetNode()), true
}

// embeddingDump is one entry of a run's projector_config.pbtxt.
type embeddingDump struct {
	Name         string
	Rows, Cols   int64 // -1 when unknown
	TensorPath   string
	MetadataPath string
	SpritePath   string
	SpriteDim    []uint32
	Err          error // reading tensors.tsv for its shape
}

// loadEmbeddings reads the projector config of the run in dir. A run
// without one has no embeddings and no error.
func loadEmbeddings(dir string) ([]embeddingDump, error) {
	cfg, err := tbwriter.ReadProjectorConfig(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []embeddingDump
	for _, e := range cfg.GetEmbeddings() {
		d := embeddingDump{Name: e.GetTensorName(), Rows: -1, Cols: -1, TensorPath: e.GetTensorPath(),
			MetadataPath: e.GetMetadataPath(), SpritePath: e.GetSprite().GetImagePath(), SpriteDim: e.GetSprite().GetSingleImageDim()}
		if s := e.GetTensorShape(); len(s) == 2 {
			d.Rows, d.Cols = int64(s[0]), int64(s[1])
		} else if d.TensorPath != "" {
			d.Rows, d.Cols, d.Err = tsvShape(filepath.Join(dir, filepath.FromSlash(d.TensorPath)))
		}
		out = append(out, d)
	}
	return out, nil
}

// tsvShape counts the non-empty lines of a TSV file and the fields of the
// first one, as the projector reads tensors.tsv.
func tsvShape(path string) (rows, cols int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, -1, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	cols = -1
	for {
		line, err := r.ReadBytes('\n')
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > 0 {
			if rows == 0 {
				cols = int64(bytes.Count(line, []byte{'\t'}) + 1)
			}
			rows++
		}
		if err != nil {
			return rows, cols, nil
		}
	}
}

// shape prints rows x cols, or "?" for unknown.
func (e embeddingDump) shape() string {
	if e.Rows < 0 || e.Cols < 0 {
		return "?"
	}
	return fmt.Sprintf("%dx%d", e.Rows, e.Cols)
}

// text is the one-line description of an embedding.
func (e embeddingDump) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  tensors %s", displayTag(e.Name), e.shape(), e.TensorPath)
	if e.MetadataPath != "" {
		fmt.Fprintf(&b, "  metadata %s", e.MetadataPath)
	}
	if e.SpritePath != "" {
		fmt.Fprintf(&b, "  sprite %s", e.SpritePath)
		if len(e.SpriteDim) == 2 {
			fmt.Fprintf(&b, " (%dx%d each)", e.SpriteDim[0], e.SpriteDim[1])
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, "  ERROR: %s", cleanErr(e.Err.Error()))
	}
	return b.String()
}

type jsonEmbedding struct {
	Name         string   `json:"tensor_name"`
	Rows         *int64   `json:"rows,omitempty"`
	Cols         *int64   `json:"cols,omitempty"`
	TensorPath   string   `json:"tensor_path"`
	MetadataPath string   `json:"metadata_path,omitempty"`
	SpritePath   string   `json:"sprite_path,omitempty"`
	SpriteDim    []uint32 `json:"sprite_single_image_dim,omitempty"`
	Error        string   `json:"error,omitempty"`
}

func newJSONEmbedding(e embeddingDump) jsonEmbedding {
	j := jsonEmbedding{Name: e.Name, TensorPath: e.TensorPath, MetadataPath: e.MetadataPath, SpritePath: e.SpritePath, SpriteDim: e.SpriteDim}
	if e.Rows >= 0 && e.Cols >= 0 {
		j.Rows, j.Cols = &e.Rows, &e.Cols
	}
	if e.Err != nil {
		j.Error = cleanErr(e.Err.Error())
	}
	return j
}

// graphDump is one graph_def event of a run.
type graphDump struct {
	Step  int64
	Nodes int // -1 when the GraphDef does not decode
	File  string
}

// graphs lists the run's graph_def events in load order.
func (r *runDump) graphs() []graphDump {
	var out []graphDump
	for _, f := range r.Files {
		for _, e := range f.Events {
			if _, ok := e.GetWhat().(*tbpb.Event_GraphDef); ok {
				n, ok := graphNodes(e)
				if !ok {
					n = -1
				}
				out = append(out, graphDump{Step: e.GetStep(), Nodes: n, File: f.Name})
			}
		}
	}
	return out
}

type jsonGraph struct {
	Step  int64  `json:"step"`
	Nodes int    `json:"nodes"` // -1 when the GraphDef does not decode
	File  string `json:"file"`
}
