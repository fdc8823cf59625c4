package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/selfexec"
	"github.com/tbtrain/tbtrain/internal/tbview"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// reads is the folder of event files with what TensorBoard's Python loader
// served for them, through its HTTP routes (see its README.md).
const reads = "../../testdata/tensorboard-reads"

// readsDump is the part of tbdump's --json document these tests use.
type readsDump struct {
	Inputs []struct {
		Runs []struct {
			Name      string `json:"name"`
			NotListed bool   `json:"not_listed"`
			Files     []struct {
				Name    string `json:"name"`
				NotRead bool   `json:"not_read"`
			} `json:"files"`
			MixedKinds []struct {
				Tag   string `json:"tag"`
				Kinds []struct {
					Plugin string `json:"plugin"`
					Count  int    `json:"count"`
				} `json:"kinds"`
			} `json:"mixed_kinds"`
			Tags []struct {
				Tag    string `json:"tag"`
				Plugin string `json:"plugin"`
				Count  int    `json:"count"`
				Shown  *int   `json:"shown"`
			} `json:"tags"`
		} `json:"runs"`
	} `json:"inputs"`
}

func dumpReads(t *testing.T, args ...string) readsDump {
	t.Helper()
	r := runInProcess(t, nil, append(args, "--json", reads)...)
	if r.code != 0 {
		t.Fatalf("tbdump %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var d readsDump
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestShownAgreesWithTensorBoard: under --purge=python, "shown" is the number
// of points TensorBoard's own HTTP routes returned for each tag (its
// loader's reservoir and its dashboards' sampling: 1,000 of 1,500 scalars,
// 51 of 600 histograms, 10 of 15 images and texts); a tag whose route
// failed is listed as mixed kinds; the *.profile-empty files are marked not
// read and add no tag; every run TensorBoard lists is listed.
func TestShownAgreesWithTensorBoard(t *testing.T) {
	view := tbview.ReadReads(t, reads)
	d := dumpReads(t, "--purge=python")
	var listed []string
	checked := 0
	for _, run := range d.Inputs[0].Runs {
		if !run.NotListed {
			listed = append(listed, run.Name)
		}
		for _, f := range run.Files {
			if f.NotRead != strings.HasSuffix(f.Name, ".profile-empty") {
				t.Errorf("%s/%s: not_read %v", run.Name, f.Name, f.NotRead)
			}
		}
		mixed := map[string]bool{}
		for _, m := range run.MixedKinds {
			mixed[m.Tag] = true
		}
		vtags := view.Tags[run.Name]
		for _, tg := range run.Tags {
			if tg.Plugin == "hparams" {
				continue // not served by these routes; see tbwriter's TestReadsAgreeWithTensorBoard
			}
			raw, ok := vtags[tg.Tag][tg.Plugin]
			if !ok {
				t.Errorf("%s %s: shown by tbdump as %s, not by TensorBoard", run.Name, tg.Tag, tg.Plugin)
				continue
			}
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				if !mixed[tg.Tag] {
					t.Errorf("%s %s: TensorBoard's route failed (%s) but tbdump lists no mixed kinds", run.Name, tg.Tag, raw)
				}
				continue
			}
			checked++
			if tg.Shown == nil || *tg.Shown != n {
				t.Errorf("%s %s: shown %v of %d, TensorBoard served %d", run.Name, tg.Tag, tg.Shown, tg.Count, n)
			}
		}
		ours := map[string]bool{}
		for _, tg := range run.Tags {
			ours[tg.Tag] = true
		}
		for tag := range vtags {
			if !ours[tag] {
				t.Errorf("%s: TensorBoard shows tag %s, tbdump does not", run.Name, tag)
			}
		}
	}
	if checked < 8 {
		t.Errorf("compared %d tags, want at least 8", checked)
	}
	slices.Sort(listed)
	want := slices.Sorted(slices.Values(view.Runs))
	if !slices.Equal(listed, want) {
		t.Errorf("listed runs %q, TensorBoard lists %q", listed, want)
	}
	// Without a loader there is no "shown".
	for _, run := range dumpReads(t).Inputs[0].Runs {
		for _, tg := range run.Tags {
			if tg.Shown != nil {
				t.Errorf("--purge=none: %s %s has shown %d", run.Name, tg.Tag, *tg.Shown)
			}
		}
	}
}

// TestMixedKinds: a tag logged as a scalar and then as an image (PyTorch
// accepts it; TensorBoard then fails the tag) is flagged in both outputs;
// tags of one kind are not, even where later values carry no metadata.
func TestMixedKinds(t *testing.T) {
	d := dumpReads(t)
	var got []string
	for _, run := range d.Inputs[0].Runs {
		for _, m := range run.MixedKinds {
			s := run.Name + " " + m.Tag + ":"
			for _, k := range m.Kinds {
				s += " " + k.Plugin
			}
			got = append(got, s)
		}
	}
	if want := []string{"mixed_kinds mix: scalars images"}; !slices.Equal(got, want) {
		t.Errorf("mixed kinds %q, want %q", got, want)
	}
	r := runInProcess(t, nil, reads)
	if !hasLine(r.stdout, "MIXED KINDS mix: scalars 3, images 1") {
		t.Errorf("text output does not flag tag mix:\n%s", r.stdout)
	}
}

// TestFileStepsSkipHeader: a file's step range leaves out the file_version
// header, which is always at step 0: a session resumed at step 50 shows
// "steps 50..59", not "0..59".
func TestFileStepsSkipHeader(t *testing.T) {
	dir := t.TempDir()
	w, err := tbwriter.Create(dir, tbwriter.Options{StartStep: 50})
	if err != nil {
		t.Fatal(err)
	}
	for s := int64(50); s < 60; s++ {
		if err := w.AddScalar("loss", s, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := runInProcess(t, nil, dir)
	if !hasLine(r.stdout, "  file events.out.tfevents.", "steps 50..59") {
		t.Errorf("file line does not say steps 50..59:\n%s", r.stdout)
	}
	r = runInProcess(t, nil, "--json", dir)
	if !strings.Contains(r.stdout, `"first_step": 50`) {
		t.Errorf("--json first_step is not 50:\n%s", r.stdout)
	}
}

// zeros is an endless stream of zero bytes, as /dev/zero, ending after
// limit bytes (so that a reader that reads everything ends too), counting
// the bytes read.
type zeros struct{ n, limit int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n >= z.limit {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.limit-z.n))
	clear(p[:k])
	z.n += int64(k)
	return k, nil
}

// TestStdinStreams: an event file on stdin is decoded as it is read, so a
// stream of zeros fails at its first record (a zero length with a wrong
// CRC) after a few bytes instead of being read whole into memory.
func TestStdinStreams(t *testing.T) {
	z := &zeros{limit: 64 << 20}
	var out, errb strings.Builder
	err := run(t.Context(), nil, z, &out, &errb)
	if code := exitCode(err, &errb); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(errb.String(), "<stdin>: offset 0: record length fails its CRC check") || !strings.Contains(errb.String(), "(length_crc)") {
		t.Errorf("stderr does not name the damage:\n%s", errb.String())
	}
	if z.n > 64<<10 {
		t.Errorf("read %d bytes of stdin, damaged at byte 0", z.n)
	}
}

// TestCommandStdinZeros is `head -c 4000000000 /dev/zero | tbdump` with the
// real command: it exits 1 naming the damage, having read little of the
// 4 GB offered.
func TestCommandStdinZeros(t *testing.T) {
	selfexec.Require(t)
	z := &zeros{limit: 4_000_000_000}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), asCommand+"=1")
	cmd.Stdin = z
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("tbdump < zeros: %v, want exit status 1; stderr:\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "(length_crc)") {
		t.Errorf("stderr does not name the damage:\n%s", errb.String())
	}
	// The pipe and exec's copy buffer hold a few hundred KiB at most.
	if z.n > 16<<20 {
		t.Errorf("%d bytes of zeros were read, want the process to stop at the first record", z.n)
	}
}

// TestTrailingSlash: a log directory or run directory named with a trailing
// slash, as in the README's `tbdump --purge=rust runs/` and as shell
// completion writes it, reads like the name without it (it failed with
// "stat runs/: storage: invalid key").
func TestTrailingSlash(t *testing.T) {
	for _, dir := range []string{reads, reads + "/hparams_resumed"} {
		want := runInProcess(t, nil, "--purge=rust", dir)
		got := runInProcess(t, nil, "--purge=rust", dir+"/")
		if want.code != 0 || got.code != want.code || got.stdout != want.stdout || got.stderr != want.stderr {
			t.Errorf("tbdump %s/: exit %d, stderr %q; want exit %d and the output of tbdump %s", dir, got.code, got.stderr, want.code, dir)
		}
	}
}
