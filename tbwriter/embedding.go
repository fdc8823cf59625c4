package tbwriter

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/storage"
)

// Projector plugin facts. The plugin reads projector_config.pbtxt
// (PROJECTOR_FILENAME in tensorboard/plugins/projector/metadata.py), a
// protobuf text ProjectorConfig, in every run directory; paths in it are
// relative to that directory. It parses tensors.tsv with Python's float()
// into float32 (projector_plugin.py, _read_tensor_tsv_file) and treats the
// first row of metadata.tsv as a header when it holds a tab
// (_serve_metadata). The frontend refuses sprites larger than 8192 px on a
// side (MAX_SPRITE_IMAGE_SIZE_PX, vz_projector/data-provider.ts).
// PyTorch's add_embedding (torch/utils/tensorboard/writer.py and
// _embedding.py) names the entry "<tag>:<step, zero-padded to 5>" and
// stores its files in "<step, zero-padded to 5>/<tag, with % / \ escaped as
// %25 %2f %5c>/".
const (
	// ProjectorConfigFile is the projector's config file in a run directory.
	ProjectorConfigFile = "projector_config.pbtxt"

	// MaxSpriteSize is the largest sprite side, in pixels, the projector shows.
	MaxSpriteSize = 8192
)

// Metadata labels the points of an embedding, one row per vector: either
// one column (Labels) or several (Header and Rows), not both. The zero
// value means no labels. A label may not contain a tab or a line break.
type Metadata struct {
	// Labels is a single column, written without a header row (the
	// projector takes a first row without a tab as data).
	Labels []string
	// Header names two or more columns and is written as the first row;
	// Rows[i] holds the len(Header) labels of vector i.
	Header []string
	Rows   [][]string
}

// Embedding is what AddEmbedding writes for one embedding: its entry in
// projector_config.pbtxt and its files.
type Embedding struct {
	// Info is the config entry; its paths are relative to the run directory.
	Info *tbpb.EmbeddingInfo
	// Files maps the paths of Info (tensors.tsv, metadata.tsv, sprite.png)
	// to their contents.
	Files map[string][]byte
}

// EmbeddingDir returns the directory, relative to the run, of the files of
// the embedding tag at step: "<step, zero-padded to 5>/<tag escaped>", as
// PyTorch names it.
func EmbeddingDir(tag string, step int64) string {
	esc := strings.NewReplacer("%", "%25", "/", "%2f", `\`, "%5c").Replace(tag)
	return fmt.Sprintf("%05d/%s", step, esc)
}

// EmbeddingTensorName returns the config name of the embedding tag at step,
// "<tag>:<step, zero-padded to 5>", as PyTorch names it.
func EmbeddingTensorName(tag string, step int64) string {
	return fmt.Sprintf("%s:%05d", tag, step)
}

// EmbeddingFiles builds the files and config entry of an embedding, the
// ones PyTorch's add_embedding writes for the same inputs:
//
//   - tensors.tsv: one line per vector, values separated by tabs, each
//     printed as Python prints the float64 of a float32 (str(x.item())),
//     so the bytes equal PyTorch's;
//   - metadata.tsv (when md is not zero): the labels, one row per vector,
//     after a header row when there are several columns;
//   - sprite.png (when sprites is not nil): SpriteImage of the images,
//     with Info.Sprite.SingleImageDim = [width, height].
//
// Info also records TensorShape [len(vectors), dim], which PyTorch leaves
// for the plugin to compute. Errors: an empty or "."/".." tag or one with
// NUL or invalid UTF-8; no vectors, rows of different lengths or of length
// 0; a NaN or infinite value; metadata or sprites whose count differs from
// the number of vectors; a label with a tab or line break; a header of
// fewer than two names; sprites of different sizes or too large a sprite.
func EmbeddingFiles(tag string, step int64, vectors [][]float32, md Metadata, sprites []image.Image) (*Embedding, error) {
	if tag == "" || tag == "." || tag == ".." || strings.ContainsRune(tag, 0) || !utf8.ValidString(tag) {
		return nil, fmt.Errorf("tbwriter: embedding tag %q: want a non-empty name other than . and .., valid UTF-8 without NUL", tag)
	}
	fail := func(format string, args ...any) (*Embedding, error) {
		return nil, fmt.Errorf("tbwriter: embedding %q: "+format, append([]any{tag}, args...)...)
	}
	if len(vectors) == 0 {
		return fail("no vectors")
	}
	dim := len(vectors[0])
	if dim == 0 {
		return fail("vector 0 is empty")
	}
	var tsv []byte
	for i, v := range vectors {
		if len(v) != dim {
			return fail("vector %d has %d values, vector 0 has %d", i, len(v), dim)
		}
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fail("vector %d value %d is %v (the projector needs finite values)", i, j, x)
			}
			if j > 0 {
				tsv = append(tsv, '\t')
			}
			tsv = appendPyFloat(tsv, float64(x))
		}
		tsv = append(tsv, '\n')
	}
	dir := EmbeddingDir(tag, step)
	e := &Embedding{
		Info: &tbpb.EmbeddingInfo{
			TensorName:  EmbeddingTensorName(tag, step),
			TensorPath:  path.Join(dir, "tensors.tsv"),
			TensorShape: []uint32{uint32(len(vectors)), uint32(dim)},
		},
		Files: map[string][]byte{path.Join(dir, "tensors.tsv"): tsv},
	}
	if len(vectors) > math.MaxUint32 || dim > math.MaxUint32 {
		return fail("%d x %d vectors is too large", len(vectors), dim)
	}
	mdBytes, err := md.tsv(len(vectors))
	if err != nil {
		return fail("%v", err)
	}
	if mdBytes != nil {
		e.Info.MetadataPath = path.Join(dir, "metadata.tsv")
		e.Files[e.Info.MetadataPath] = mdBytes
	}
	if sprites != nil {
		if len(sprites) != len(vectors) {
			return fail("%d sprite images for %d vectors", len(sprites), len(vectors))
		}
		sprite, err := SpriteImage(sprites)
		if err != nil {
			return fail("%v", err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, sprite); err != nil {
			return fail("sprite: %v", err)
		}
		b := sprites[0].Bounds()
		e.Info.Sprite = &tbpb.SpriteMetadata{
			ImagePath:      path.Join(dir, "sprite.png"),
			SingleImageDim: []uint32{uint32(b.Dx()), uint32(b.Dy())},
		}
		e.Files[e.Info.Sprite.ImagePath] = buf.Bytes()
	}
	return e, nil
}

// tsv returns the metadata file for n vectors, or nil for no metadata.
func (md Metadata) tsv(n int) ([]byte, error) {
	checkCell := func(where, s string) error {
		if strings.ContainsAny(s, "\t\n\r") || !utf8.ValidString(s) {
			return fmt.Errorf("metadata %s %q: a label must be valid UTF-8 without tabs or line breaks", where, s)
		}
		return nil
	}
	var b []byte
	switch {
	case md.Labels != nil && (md.Header != nil || md.Rows != nil):
		return nil, errors.New("metadata: set Labels or Header and Rows, not both")
	case md.Labels != nil:
		if len(md.Labels) != n {
			return nil, fmt.Errorf("metadata: %d labels for %d vectors", len(md.Labels), n)
		}
		for i, l := range md.Labels {
			if err := checkCell("label "+strconv.Itoa(i), l); err != nil {
				return nil, err
			}
			b = append(append(b, l...), '\n')
		}
	case md.Header != nil || md.Rows != nil:
		if len(md.Header) < 2 {
			return nil, fmt.Errorf("metadata: a header needs two or more columns (got %d); use Labels for one", len(md.Header))
		}
		if len(md.Rows) != n {
			return nil, fmt.Errorf("metadata: %d rows for %d vectors", len(md.Rows), n)
		}
		for _, row := range append([][]string{md.Header}, md.Rows...) {
			if len(row) != len(md.Header) {
				return nil, fmt.Errorf("metadata: row %q has %d columns, the header %d", row, len(row), len(md.Header))
			}
			for j, c := range row {
				if err := checkCell("cell", c); err != nil {
					return nil, err
				}
				if j > 0 {
					b = append(b, '\t')
				}
				b = append(b, c...)
			}
			b = append(b, '\n')
		}
	}
	return b, nil
}

// SpriteImage tiles images (all of one size, W x H) into the square sprite
// PyTorch's add_embedding makes: ceil(sqrt(n)) columns, rows filled left to
// right, no padding, on a black square of side columns*W. Colors are
// opaque RGB; alpha is dropped after compositing over black. It returns an
// error for no images, images of different sizes, or a side over
// MaxSpriteSize.
func SpriteImage(images []image.Image) (*image.RGBA, error) {
	if len(images) == 0 {
		return nil, errors.New("sprite: no images")
	}
	w, h := images[0].Bounds().Dx(), images[0].Bounds().Dy()
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("sprite: image 0 is %dx%d", w, h)
	}
	for i, m := range images {
		if m.Bounds().Dx() != w || m.Bounds().Dy() != h {
			return nil, fmt.Errorf("sprite: image %d is %dx%d, image 0 is %dx%d", i, m.Bounds().Dx(), m.Bounds().Dy(), w, h)
		}
	}
	cols := int(math.Ceil(math.Sqrt(float64(len(images)))))
	rows := (len(images) + cols - 1) / cols
	side := cols * w
	if side > MaxSpriteSize || rows*h > side || rows*h > MaxSpriteSize {
		return nil, fmt.Errorf("sprite: %d images of %dx%d make a %dx%d sprite; the projector shows at most %dx%d (or images taller than wide do not fit PyTorch's square)",
			len(images), w, h, side, max(side, rows*h), MaxSpriteSize, MaxSpriteSize)
	}
	out := image.NewRGBA(image.Rect(0, 0, side, side))
	for i := range out.Pix {
		if i%4 == 3 {
			out.Pix[i] = 0xff
		}
	}
	for i, m := range images {
		x0, y0 := (i%cols)*w, (i/cols)*h
		b := m.Bounds()
		for y := range h {
			for x := range w {
				r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA() // premultiplied: over black
				out.SetRGBA(x0+x, y0+y, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff})
			}
		}
	}
	return out, nil
}

// appendPyFloat appends f as Python's repr (and str) prints a float:
// the shortest digits that read back as f, in positional notation when
// the decimal exponent is in [-4, 16), else as d.ddde±XX; a whole number
// gets ".0". (CPython's format_float_short with mode 'r'.)
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		dst = append(dst, '-')
	}
	ei := bytes.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	digits := make([]byte, 0, 17)
	for _, c := range e[:ei] {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	if f == 0 {
		return append(dst, "0.0"...)
	}
	decpt := exp + 1 // value = 0.digits × 10^decpt
	if decpt <= -4 || decpt > 16 {
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(append(dst, '.'), digits[1:]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	switch {
	case decpt <= 0:
		dst = append(dst, "0."...)
		for range -decpt {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	case decpt >= len(digits):
		dst = append(dst, digits...)
		for range decpt - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, ".0"...)
	default:
		dst = append(dst, digits[:decpt]...)
		dst = append(dst, '.')
		return append(dst, digits[decpt:]...)
	}
}

// projectorMu serializes the read-modify-write of projector configs by all
// Writers of this process.
var projectorMu sync.Mutex

// AddEmbedding writes an embedding for TensorBoard's Projector tab, as
// PyTorch's add_embedding does: vectors[i] is point i; md labels the
// points; sprites (nil for none) are their thumbnails. The files of
// EmbeddingFiles go under the run directory, and the run's
// projector_config.pbtxt gets the embedding's entry: entries already in
// the file are kept, and an entry of the same tag and step (a re-run, a
// resumed session) is replaced in place along with its files. Every file
// is replaced atomically, so a reader never sees half of one; files of the
// replaced entry that the new one lacks are removed. Unlike the event
// queue, the files are written before AddEmbedding returns. Nothing is
// written when the input is bad (see EmbeddingFiles) or the existing
// config cannot be parsed. Writers of one process serialize their config
// updates; two processes must not add embeddings to one run at once.
// AddEmbedding needs a Writer from Create.
func (w *Writer) AddEmbedding(tag string, step int64, vectors [][]float32, md Metadata, sprites []image.Image) error {
	if w.path == "" {
		return fmt.Errorf("tbwriter: AddEmbedding %q: %w", tag, ErrNoRunDir)
	}
	if err := w.stickyErr(); err != nil {
		return err
	}
	if w.q.isClosed() {
		return ErrClosed
	}
	e, err := EmbeddingFiles(tag, step, vectors, md, sprites)
	if err != nil {
		return err
	}
	return writeEmbedding(runFiles{dir: storage.Dir(w.path)}, e)
}

// WriteEmbedding writes e (built by EmbeddingFiles) into the run directory
// runDir (a local path or a storage URL) as AddEmbedding does, for a
// program with no Writer open on the run: e's files, then its entry in
// projector_config.pbtxt, with the same rules (other entries kept, an entry
// of the same tag and step replaced, every file replaced atomically).
func WriteEmbedding(runDir string, e *Embedding) error {
	return writeEmbedding(runFiles{dir: runDir}, e)
}

// writeEmbedding stores e's files and its config entry in files.
func writeEmbedding(files runFiles, e *Embedding) error {
	projectorMu.Lock()
	defer projectorMu.Unlock()
	cfg, err := readProjectorConfig(files)
	if errors.Is(err, fs.ErrNotExist) {
		cfg, err = &tbpb.ProjectorConfig{}, nil
	}
	if err != nil {
		return err
	}
	var old *tbpb.EmbeddingInfo
	idx := -1
	for i, info := range cfg.Embeddings {
		if info.GetTensorName() == e.Info.TensorName {
			old, idx = info, i
			break
		}
	}
	names := make([]string, 0, len(e.Files))
	for name := range e.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := files.put(name, e.Files[name]); err != nil {
			return err
		}
	}
	if idx >= 0 {
		cfg.Embeddings[idx] = e.Info
	} else {
		cfg.Embeddings = append(cfg.Embeddings, e.Info)
	}
	if err := files.put(ProjectorConfigFile, FormatProjectorConfig(cfg)); err != nil {
		return err
	}
	if old != nil {
		// Files of the replaced entry that the new one lacks (a re-run
		// without metadata or sprite), if they are in its directory.
		dir := path.Dir(e.Info.TensorPath)
		for _, p := range []string{old.GetMetadataPath(), old.GetSprite().GetImagePath(), old.GetTensorPath()} {
			if _, kept := e.Files[p]; p != "" && !kept && path.Dir(p) == dir {
				if err := files.remove(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ReadProjectorConfig reads and parses runDir's projector_config.pbtxt. A
// missing file is an error matching fs.ErrNotExist; a file that does not
// parse is an error naming it.
func ReadProjectorConfig(runDir string) (*tbpb.ProjectorConfig, error) {
	return readProjectorConfig(runFiles{dir: runDir})
}

func readProjectorConfig(files runFiles) (*tbpb.ProjectorConfig, error) {
	b, err := files.read(ProjectorConfigFile)
	if err != nil {
		return nil, err
	}
	cfg := new(tbpb.ProjectorConfig)
	if err := prototext.Unmarshal(b, cfg); err != nil {
		return nil, fmt.Errorf("tbwriter: %s: %v (left as it is)", path.Join(files.dir, ProjectorConfigFile), cleanProtoErr(err))
	}
	return cfg, nil
}

// cleanProtoErr removes the non-breaking space protobuf-go puts in some
// error texts (internal/detrand), so messages do not depend on the build.
func cleanProtoErr(err error) string {
	return strings.ReplaceAll(err.Error(), "\u00a0", " ")
}

// RemoveEmbeddings removes from runDir's projector_config.pbtxt the entries
// that AddEmbedding wrote for tag at steps >= from, and their files (and in
// a local run directory the entry and step directories left empty): what a
// session that resumes a run at step from replaces, as its SessionLog START
// at from makes TensorBoard drop the events of those steps. Entries of other
// tags, entries not named the way AddEmbedding names them, and files outside
// an entry's own directory (EmbeddingDir) are left alone. The config is
// replaced atomically before any file is deleted, so a crash in between
// leaves only files no entry names. A run without a projector config is not
// an error.
func RemoveEmbeddings(runDir, tag string, from int64) error {
	projectorMu.Lock()
	defer projectorMu.Unlock()
	files := runFiles{dir: runDir}
	cfg, err := readProjectorConfig(files)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep, drop []*tbpb.EmbeddingInfo
	for _, e := range cfg.Embeddings {
		if step, ok := embeddingStep(e.GetTensorName(), tag); ok && step >= from {
			drop = append(drop, e)
		} else {
			keep = append(keep, e)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	cfg.Embeddings = keep
	if err := files.put(ProjectorConfigFile, FormatProjectorConfig(cfg)); err != nil {
		return err
	}
	for _, e := range drop {
		step, _ := embeddingStep(e.GetTensorName(), tag)
		dir := EmbeddingDir(tag, step)
		for _, p := range []string{e.GetTensorPath(), e.GetMetadataPath(), e.GetSprite().GetImagePath()} {
			if p != "" && path.Dir(p) == dir {
				if err := files.remove(p); err != nil {
					return err
				}
			}
		}
		if !storage.IsURL(runDir) {
			// A local directory outlives its files (an object store has
			// none): the entry's directory and its step directory go too
			// if nothing else is in them. os.Remove leaves a directory
			// that is not empty; one that cannot go is only untidy.
			for _, d := range []string{dir, path.Dir(dir)} {
				_ = os.Remove(filepath.Join(runDir, filepath.FromSlash(d)))
			}
		}
	}
	return nil
}

// embeddingStep parses the step of an entry named by EmbeddingTensorName
// for tag: "<tag>:<step, at least 5 digits>".
func embeddingStep(name, tag string) (int64, bool) {
	digits, ok := strings.CutPrefix(name, tag+":")
	if !ok || len(digits) < 5 {
		return 0, false
	}
	step, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || step < 0 || EmbeddingTensorName(tag, step) != name {
		return 0, false
	}
	return step, true
}
