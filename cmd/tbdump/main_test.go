package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/internal/selfexec"
)

// fixtures is the project's folder of real TensorBoard event files (see its
// README.md for where each came from).
const fixtures = "../../testdata/tensorboard"

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// asCommand is the environment variable that makes the test binary behave as
// tbdump itself (see TestMain).
const asCommand = "TBDUMP_TEST_AS_COMMAND"

// TestMain lets the end-to-end tests re-execute this test binary as the
// command: with asCommand=1 in the environment it runs main instead of the
// tests.
func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		main()
		return
	}
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

// needFixtures fails the test when the fixture folder is missing: it is part
// of the repository, so its absence is a broken checkout, not a missing tool.
func needFixtures(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(fixtures); err != nil {
		t.Fatalf("fixtures missing: %v", err)
	}
}

// fx joins path elements under the fixtures folder, with forward slashes so
// that goldens are the same on every OS.
func fx(elem ...string) string {
	return filepath.ToSlash(filepath.Join(append([]string{fixtures}, elem...)...))
}

// result is what one tbdump invocation produced.
type result struct {
	stdout, stderr string
	code           int
}

// runInProcess calls run and exitCode the way main does.
func runInProcess(t testing.TB, stdin []byte, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, bytes.NewReader(stdin), &out, &errb)
	code := exitCode(err, &errb)
	return result{out.String(), errb.String(), code}
}

// runCommand re-executes the test binary as tbdump.
func runCommand(t testing.TB, stdin []byte, args ...string) result {
	t.Helper()
	selfexec.Require(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCommand+"=1")
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running tbdump %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./cmd/tbdump -update` to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update if the change is intended):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first differing lines of want and got.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 10; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g + "\n")
			shown++
		}
	}
	return b.String()
}
