package trainer_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/ckpt"
	"github.com/tbtrain/tbtrain/internal/version"
	"github.com/tbtrain/tbtrain/proto/ckptpb"
	"github.com/tbtrain/tbtrain/tbwriter"
)

// TestBuildRecorded checks that every checkpoint of a run records the build
// of tbtrain that wrote it, and that the run's config text names it too.
func TestBuildRecorded(t *testing.T) {
	dir, err := runFresh(t, t.TempDir(), smallConfig(), 0)
	if err != nil {
		t.Fatal(err)
	}
	v := version.Current()
	want := &ckptpb.Build{ModuleVersion: v.Version, VcsRevision: v.Revision, VcsTime: v.Time,
		VcsModified: v.Modified, GoVersion: v.GoVersion, Platform: v.Platform}
	if want.GetGoVersion() == "" || want.GetModuleVersion() == "" {
		t.Fatalf("version.Current() = %+v: no build information in the test binary", v)
	}
	entries, err := ckpt.List(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("ckpt.List(%s): %d entries, %v", dir, len(entries), err)
	}
	for _, e := range entries {
		c, err := ckpt.Load(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.GetBuild(); !proto.Equal(got, want) {
			t.Errorf("%s: build %v, want %v", e.Path, got, want)
		}
	}

	runs, err := tbwriter.ReadLogdir(dir)
	if err != nil {
		t.Fatalf("ReadLogdir(%s): %v", dir, err)
	}
	var run *tbwriter.Run // the run directory itself (its hparams session is a subdirectory)
	for i := range runs {
		if runs[i].Name == "." {
			run = runs[i]
		}
	}
	if run == nil {
		t.Fatalf("ReadLogdir(%s): no events in the run directory itself", dir)
	}
	pts := run.Series(tbwriter.NoPurge)["config"]
	if len(pts) != 1 {
		t.Fatalf("config logged %d times, want once", len(pts))
	}
	text, ok := tbwriter.TextOf(pts[0].Value)
	if !ok || len(text) != 1 {
		t.Fatalf("config value is not one text: %v", pts[0].Value)
	}
	if line := "built by: " + v.String(); !strings.Contains(text[0], "\n"+line+"\n") {
		t.Errorf("config text\n%s\ndoes not hold the line %q", text[0], line)
	}
	if !strings.HasPrefix(text[0], "| flag | value |") {
		t.Errorf("config text does not start with the config table:\n%s", text[0])
	}
}
