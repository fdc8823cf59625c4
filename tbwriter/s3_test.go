package tbwriter_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/storage/s3store"
	"github.com/tbtrain/tbtrain/tbwriter"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// registerS3 points s3:// locations at the test server.
func registerS3(t *testing.T) *s3test.Server {
	srv := s3test.Get(t)
	env := map[string]string{}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	storage.Register("s3", s3store.Opener(func(k string) string { return env[k] }, s3store.Retry{}))
	return srv
}

// TestObjectsOnS3 writes two sessions of a run to S3: every flush is a new
// object that sorts after the previous one, each starts with file_version,
// only a session's first has the SessionLog START, and TensorBoard's rules
// read one series.
func TestObjectsOnS3(t *testing.T) {
	srv := registerS3(t)
	logdir := srv.URL(s3test.Prefix(t))
	run := logdir + "/run"
	st := srv.Store(t)
	_, runKey, _ := s3store.ParseURL(run)

	w, err := tbwriter.Create(run, tbwriter.Options{FlushInterval: -1, Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	objects := func() []string {
		t.Helper()
		list, err := st.List(context.Background(), runKey)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, i := range list {
			names = append(names, i.Name())
		}
		return names
	}
	if n := len(objects()); n != 1 {
		t.Fatalf("after Create: %d objects, want 1 (file_version and START)", n)
	}
	for s := int64(1); s <= 3; s++ {
		if err := w.AddScalar("loss", s, float32(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := len(objects()); n != 2 {
		t.Fatalf("after Sync: %d objects, want 2: Sync must have uploaded", n)
	}
	w.AddScalar("loss", 4, 4)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.AddScalar("loss", 5, 5)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A resumed session at step 4: its START purges 4 and 5.
	w2, err := tbwriter.Create(run, tbwriter.Options{FlushInterval: -1, Host: "h", StartStep: 4})
	if err != nil {
		t.Fatal(err)
	}
	w2.AddScalar("loss", 4, 40)
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}

	names := objects()
	if len(names) != 6 {
		t.Fatalf("objects %v, want 6 (header, Sync, Flush, Close; header, Close)", names)
	}
	starts := 0
	for i, name := range names {
		if !tbwriter.IsEventFile(name) {
			t.Errorf("%s is not an event file name", name)
		}
		if i > 0 && name <= names[i-1] {
			t.Errorf("%s does not sort after %s", name, names[i-1])
		}
		evs, err := tbwriter.ReadFile(st.Location(runKey + "/" + name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(evs) == 0 || evs[0].GetFileVersion() != "brain.Event:2" {
			t.Errorf("%s does not start with file_version", name)
		}
		for _, ev := range evs {
			if ev.GetSessionLog().GetStatus() == tbpb.SessionLog_START {
				starts++
				if i != 0 && i != 4 {
					t.Errorf("%s (object %d) holds a START; only each session's first may", name, i)
				}
			}
		}
	}
	if starts != 2 {
		t.Errorf("%d STARTs, want one per session", starts)
	}

	runs, err := tbwriter.ReadLogdir(logdir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Name != "run" || runs[0].Err != nil {
		t.Fatalf("ReadLogdir = %d runs (%+v)", len(runs), runs)
	}
	// ReadRun reads the same objects, and nothing under a prefix below.
	if err := st.Put(context.Background(), runKey+"/sub/events.out.tfevents.0.bad", []byte("not an event file")); err != nil {
		t.Fatal(err)
	}
	own, err := tbwriter.ReadRun(run)
	if err != nil || own.Err != nil || !slices.Equal(own.Files, runs[0].Files) {
		t.Errorf("ReadRun(%s) = files %v, %v, %v; want ReadLogdir's %v", run, own.Files, own.Err, err, runs[0].Files)
	}
	for _, rule := range []tbwriter.PurgeRule{tbwriter.PythonPurge, tbwriter.RustPurge} {
		pts := runs[0].Series(rule)["loss"]
		var got []float32
		for _, p := range pts {
			got = append(got, p.Value.GetSimpleValue())
		}
		if want := []float32{1, 2, 3, 40}; len(got) != len(want) || got[0] != 1 || got[3] != 40 {
			t.Errorf("%v: loss = %v, want %v", rule, got, want)
		}
	}
}
