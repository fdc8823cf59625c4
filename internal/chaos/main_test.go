//go:build unix

package chaos

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// binDir holds binaries and the reference run built for this test process.
// It is made by the first buildCmd (so that the harness's re-exec'ed
// helper children make none) and removed by TestMain.
var (
	binDirOnce sync.Once
	binDir     string
	binDirErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var builds sync.Map // import path -> *buildResult

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// goTool returns the go command that runs this test: go test puts its own
// GOROOT/bin first in the test's PATH (since Go 1.19), so "go" is found there.
func goTool() string {
	return "go"
}

// buildCmd builds the main package pkg (an import path) once per test
// process and returns the binary's path.
func buildCmd(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &buildResult{})
	b := v.(*buildResult)
	binDirOnce.Do(func() {
		binDir, binDirErr = os.MkdirTemp("", "tbtrain-chaos-bin-")
	})
	if binDirErr != nil {
		t.Fatal(binDirErr)
	}
	b.once.Do(func() {
		out := filepath.Join(binDir, filepath.Base(pkg))
		args := []string{"build", "-o", out}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(goTool(), append(args, pkg)...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
			return
		}
		// Readable and executable by an unprivileged child (TestReadOnlyLogdir).
		if err := os.Chmod(binDir, 0o755); err != nil {
			b.err = err
			return
		}
		b.path = out
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// chaosSeed returns the seed of the kill schedule: TBTRAIN_CHAOS_SEED if
// set, otherwise derived from the clock. The test logs it; failure messages
// name it so a schedule can be replayed.
func chaosSeed(t testing.TB) uint64 {
	t.Helper()
	if s := os.Getenv("TBTRAIN_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TBTRAIN_CHAOS_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// killTarget returns how many SIGKILLs the chaos test delivers: a handful by
// default, fewer with -short, TBTRAIN_CHAOS_KILLS in full mode.
func killTarget(t testing.TB) int {
	t.Helper()
	if s := os.Getenv("TBTRAIN_CHAOS_KILLS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			t.Fatalf("TBTRAIN_CHAOS_KILLS=%q: want a count >= 0", s)
		}
		return v
	}
	if testing.Short() {
		return 5
	}
	return 8
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6368616f73)) } // "chaos"
