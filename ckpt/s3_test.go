package ckpt

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tbtrain/tbtrain/internal/s3test"
	"github.com/tbtrain/tbtrain/storage"
)

// s3Dir registers s3:// with the test server and returns a fresh run
// directory URL there.
func s3Dir(t testing.TB) string {
	return s3test.Get(t).Dir(t) + "/run"
}

// TestS3 runs a checkpoint directory's life on S3: save, load, list, newest
// with a damaged newest object, prune, and a set-aside interrupted between
// its copy and its delete.
func TestS3(t *testing.T) {
	dir := s3Dir(t)
	st, key, err := storage.For(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, step := range []int64{10, 20, 30} {
		mustSave(t, storage.Join(dir, "c"+string(rune('0'+step/10))+Ext), sample(step, true))
	}
	got, err := Load(storage.Join(dir, "c2"+Ext))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(20, true), got, protocmp.Transform()); diff != "" {
		t.Fatalf("Load after Save differs (-want +got):\n%s", diff)
	}
	_, err = Load(storage.Join(dir, "missing"+Ext))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://") {
		t.Fatalf("Load of a missing object: %v, want fs.ErrNotExist naming the URL", err)
	}

	// A torn object (as no S3 PUT leaves one, but a copy from elsewhere
	// might) is reported and skipped.
	b, err := Encode(sample(40, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, key+"/c4"+Ext, b[:len(b)/2]); err != nil {
		t.Fatal(err)
	}
	c, path, skipped, err := Newest(dir)
	if err != nil || c.GetGlobalStep() != 30 || path != storage.Join(dir, "c3"+Ext) {
		t.Fatalf("Newest = step %d at %s, %v; want step 30 at c3", c.GetGlobalStep(), path, err)
	}
	if len(skipped) != 1 || !errors.Is(skipped[0], ErrTruncated) {
		t.Fatalf("Newest skipped %v, want the truncated c4", skipped)
	}
	if err := st.Delete(ctx, key+"/c4"+Ext); err != nil {
		t.Fatal(err)
	}

	if err := Prune(dir, PruneOptions{Run: "", Keep: 2}); err != nil {
		t.Fatal(err)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Step != 20 || list[1].Step != 30 {
		t.Fatalf("after Prune(keep 2): %+v", list)
	}

	// A set-aside killed after copying c3 but before deleting it: the
	// record and both objects exist. The next SetAside finishes it.
	if err := st.Put(ctx, key+"/"+AsideRecord, []byte(asideHeader+"c3"+Ext+"\tc3"+Ext+".abandoned\n")); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, key+"/c3"+Ext+".abandoned", mustGetObj(t, st, key+"/c3"+Ext)); err != nil {
		t.Fatal(err)
	}
	c, _, _, err = Newest(dir)
	if err != nil || c.GetGlobalStep() != 20 {
		t.Fatalf("while c3 is being set aside Newest = step %d, %v; want 20", c.GetGlobalStep(), err)
	}
	if err := SetAside(dir, []Move{{From: "c3" + Ext, To: "c3" + Ext + ".abandoned"}}, nil); err != nil {
		t.Fatalf("SetAside finishing an interrupted move: %v", err)
	}
	if _, err := st.Stat(ctx, key+"/c3"+Ext); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("c3 still there after the set-aside: %v", err)
	}
	if _, err := st.Stat(ctx, key+"/"+AsideRecord); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("set-aside record still there: %v", err)
	}
	if err := CleanTemp(dir); err != nil {
		t.Fatalf("CleanTemp on S3: %v", err)
	}
}

func mustGetObj(t *testing.T, st storage.Store, key string) []byte {
	t.Helper()
	b, err := st.Get(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkSaveLeNetS3 is BenchmarkSaveLeNet on the S3 test server
// (SeaweedFS on loopback): one PUT with Content-MD5, then a HEAD that
// checks the length and MD5. Compare with -count 20 -benchtime 1x and
// benchstat's median.
func BenchmarkSaveLeNetS3(b *testing.B) {
	c := sample(1, true)
	path := storage.Join(s3Dir(b), "b.ckpt")
	mustSave(b, path, c) // the first write to a prefix is not what is timed
	b.SetBytes(int64(len(mustEncode(b, c))))
	b.ReportAllocs()
	for b.Loop() {
		if err := Save(path, c); err != nil {
			b.Fatal(err)
		}
	}
}
