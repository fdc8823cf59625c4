package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "9e89d9e2abcd4f0cfb0b5a4c2f7b8e39a1d2c3e4"
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want Info
		text string
	}{
		{"stamped build", debug.BuildInfo{GoVersion: "go1.26.8",
			Main:     debug.Module{Path: Module, Version: "v0.0.0-20261202183000-9e89d9e2abcd"},
			Settings: settings("GOOS", "linux", "GOARCH", "arm64", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-02T18:30:00Z", "vcs.modified", "false")},
			Info{Version: "v0.0.0-20261202183000-9e89d9e2abcd", Revision: rev, Time: "2026-12-02T18:30:00Z", GoVersion: "go1.26.8", Platform: "linux/arm64"},
			Module + " v0.0.0-20261202183000-9e89d9e2abcd, revision " + rev + " (2026-12-02T18:30:00Z), go1.26.8 linux/arm64"},
		{"uncommitted changes", debug.BuildInfo{GoVersion: "go1.26.8",
			Main:     debug.Module{Path: Module, Version: "v0.0.0-20261202183000-9e89d9e2abcd+dirty"},
			Settings: settings("GOOS", "darwin", "GOARCH", "arm64", "vcs.revision", rev, "vcs.modified", "true")},
			Info{Version: "v0.0.0-20261202183000-9e89d9e2abcd+dirty", Revision: rev, Modified: true, GoVersion: "go1.26.8", Platform: "darwin/arm64"},
			Module + " v0.0.0-20261202183000-9e89d9e2abcd+dirty, revision " + rev + " with uncommitted changes, go1.26.8 darwin/arm64"},
		{"go run: nothing stamped", debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: Module, Version: "(devel)"}, Settings: settings("GOOS", "windows", "GOARCH", "amd64")},
			Info{Version: "(devel)", GoVersion: "go1.26.8", Platform: "windows/amd64"},
			Module + " (devel), no VCS revision stamped (go run, go test, -buildvcs=false, or not built in a git clone), go1.26.8 windows/amd64"},
		{"a dependency of another program", debug.BuildInfo{GoVersion: "go1.26.8",
			Main:     debug.Module{Path: "example.com/app", Version: "v1.0.0"},
			Deps:     []*debug.Module{{Path: "golang.org/x/sys", Version: "v0.50.0"}, {Path: Module, Version: "v0.3.0"}},
			Settings: settings("GOOS", "linux", "GOARCH", "amd64", "vcs.revision", rev)},
			Info{Version: "v0.3.0", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			Module + " v0.3.0, no VCS revision stamped (go run, go test, -buildvcs=false, or not built in a git clone), go1.26.8 linux/amd64"},
		{"a replaced dependency", debug.BuildInfo{GoVersion: "go1.26.8",
			Main:     debug.Module{Path: "example.com/app"},
			Deps:     []*debug.Module{{Path: Module, Version: "v0.3.0", Replace: &debug.Module{Path: "../tbtrain"}}},
			Settings: settings("GOOS", "linux", "GOARCH", "amd64")},
			Info{Version: "(replaced by ../tbtrain)", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FromBuildInfo(&tc.bi)
			if got != tc.want {
				t.Errorf("FromBuildInfo = %+v, want %+v", got, tc.want)
			}
			if tc.text != "" && got.String() != tc.text {
				t.Errorf("String() =\n%s\nwant\n%s", got.String(), tc.text)
			}
		})
	}
}

// TestCurrent: in a test binary tbtrain is the main module, built by this
// toolchain for this platform.
func TestCurrent(t *testing.T) {
	info := Current()
	if info.GoVersion != runtime.Version() || info.Platform != runtime.GOOS+"/"+runtime.GOARCH || info.Version == "" {
		t.Errorf("Current() = %+v, want version set, %s, %s/%s", info, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	if l := Line("train"); !strings.HasPrefix(l, "train "+Module+" ") {
		t.Errorf("Line(train) = %q", l)
	}
}

// TestBuildStampsRevision builds a program that prints Line in a new git
// repository holding a copy of this package (a module named like tbtrain),
// and checks that a go build there reports the commit, then the uncommitted
// change after an edit. It needs git and the go command.
func TestBuildStampsRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git not found: %v", err)
		}
		t.Skipf("git not found: %v", err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile("version.go")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":                      "module " + Module + "\n\ngo 1.26\n",
		"internal/version/version.go": string(src),
		"cmd/v/main.go":               "package main\n\nimport \"" + Module + "/internal/version\"\n\nfunc main() { println(version.Line(\"v\")) }\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The go command reads GOFLAGS from the user's go env file too (where
	// -buildvcs=false may be set): the environment variable overrides it.
	env := append(os.Environ(), "GOFLAGS=-buildvcs=true", "GOTOOLCHAIN=local",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
	runIn := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	runIn(git, "init", "-q")
	runIn(git, "add", "-A")
	runIn(git, "commit", "-q", "-m", "test")
	rev := runIn(git, "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "v")

	runIn("go", "build", "-o", bin, "./cmd/v")
	got := runIn(bin)
	want := regexp.MustCompile(`^v ` + regexp.QuoteMeta(Module) + ` v0\.0\.0-\d{14}-` + rev[:12] +
		`, revision ` + rev + ` \(\d{4}-\d\d-\d\dT[0-9:]+Z\), go1\.\d+\S* \w+/\w+$`)
	if !want.MatchString(got) {
		t.Errorf("clean build printed\n%s\nwant a match for\n%s", got, want)
	}

	if err := os.WriteFile(filepath.Join(dir, "cmd", "v", "extra.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runIn(git, "add", "-A") // staged, not committed: still a modification
	runIn("go", "build", "-o", bin, "./cmd/v")
	got = runIn(bin)
	if !strings.Contains(got, "+dirty, revision "+rev+" (") || !strings.Contains(got, ") with uncommitted changes, go1.") {
		t.Errorf("build with a change printed\n%s\nwant +dirty and \"with uncommitted changes\" for revision %s", got, rev)
	}
}
