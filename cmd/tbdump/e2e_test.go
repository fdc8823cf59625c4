package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/tbview"
)

// stoppedKind maps TensorBoard's reason for stopping a file (record_scan
// "stopped", the wording of tensorboard/summary/_tf/.../record_reader and the
// Python loader) to tbdump's error kind.
func stoppedKind(s string) string {
	switch {
	case strings.Contains(s, "failed header crc32 check"):
		return "length_crc"
	case strings.Contains(s, "failed event crc32 check"):
		return "data_crc"
	case strings.Contains(s, "truncated record"):
		return "torn"
	}
	return "unknown: " + s
}

// TestDamagedExitAndReports runs the real command over the damaged fixtures:
// exit status 1, and one stderr line per damaged file naming the file, the
// offset where TensorBoard stopped and the kind of damage.
func TestDamagedExitAndReports(t *testing.T) {
	needFixtures(t)
	view := tbview.ReadGroup(t, filepath.Join(fixtures, "damaged"))
	r := runCommand(t, nil, fx("damaged"))
	if r.code != 1 {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	wantDamaged := 0
	for run, rv := range view.Runs {
		for file, scan := range rv.RecordScan {
			path := fx("damaged", run, file)
			switch {
			case scan.Stopped != nil:
				wantDamaged++
				want := path + ": offset " + strconv.FormatInt(scan.ValidBytes, 10) + ": "
				kind := "(" + stoppedKind(*scan.Stopped) + ")"
				if !hasLine(r.stderr, want, kind) {
					t.Errorf("stderr lacks a line with %q and %q:\n%s", want, kind, r.stderr)
				}
			case rv.Error != nil && strings.Contains(*rv.Error, "DecodeError"):
				wantDamaged++
				if !hasLine(r.stderr, path+": offset ", "(not_event)") {
					t.Errorf("stderr lacks a not_event line for %s:\n%s", path, r.stderr)
				}
			default:
				if strings.Contains(r.stderr, path+":") {
					t.Errorf("clean file %s reported as damaged:\n%s", path, r.stderr)
				}
			}
		}
	}
	if got := strings.Count(r.stderr, "\ntbdump: ") + 1; !strings.HasPrefix(r.stderr, "tbdump: ") || got != wantDamaged+1 {
		t.Errorf("stderr has %d lines, want %d damage lines + 1 summary:\n%s", got, wantDamaged, r.stderr)
	}
}

// hasLine reports whether some line of s contains all of parts.
func hasLine(s string, parts ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestCommandExitStatus(t *testing.T) {
	needFixtures(t)
	clean, err := os.ReadFile(fx("damaged", "clean", "events.out.tfevents.1795952040.vm.13683.0"))
	if err != nil {
		t.Fatal(err)
	}
	torn, err := os.ReadFile(fx("damaged", "cut_mid_payload", "events.out.tfevents.1795952040.vm.13683.0"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		stdin      []byte
		args       []string
		code       int
		stdoutHas  string
		stderrHas  string
		stderrNone bool
	}{
		{"clean dir", nil, []string{fx("torch-1.13")}, 0, "run basic\n", "", true},
		{"help", nil, []string{"--help"}, 0, "Examples:", "", true},
		{"bad purge", nil, []string{"--purge=java", fx("torch-1.13")}, 2, "", `--purge="java"`, false},
		{"bad regexp", nil, []string{"--tags=(", fx("torch-1.13")}, 2, "", "--tags:", false},
		{"unknown flag", nil, []string{"--bogus"}, 2, "", "unknown flag: --bogus", false},
		{"missing path", nil, []string{"no/such/dir"}, 1, "", "no/such/dir", false},
		{"stdin clean", clean, nil, 0, "run <stdin>\n", "", true},
		{"stdin torn", torn, nil, 1, "run <stdin>\n", "tbdump: <stdin>: offset 2286: truncated record in data", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCommand(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stdout, tc.stdoutHas) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdoutHas, r.stdout)
			}
			if !strings.Contains(r.stderr, tc.stderrHas) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrHas, r.stderr)
			}
			if tc.stderrNone && r.stderr != "" {
				t.Errorf("stderr not empty:\n%s", r.stderr)
			}
		})
	}
}
