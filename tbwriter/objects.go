package tbwriter

// This file holds the event writer's destination on stores whose objects
// cannot grow (S3): each upload is a new object, named to sort after the
// previous one, so that TensorBoard, which reads a run's event files in name
// order, sees one stream.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/storage"
)

// Defaults of the upload policy on object stores (Options.ObjectInterval and
// Options.ObjectSize).
const (
	// DefaultObjectInterval: between explicit Flush or Sync calls, buffered
	// records are uploaded at most once a minute. A LeNet-5 epoch takes
	// about a minute on two cores, so TensorBoard lags by at most that and
	// a 20-epoch run leaves about two objects per epoch (one on the timer,
	// one at the checkpoint's Sync).
	DefaultObjectInterval = 60 * time.Second
	// DefaultObjectSize: more buffered than 4 MiB is uploaded at once,
	// bounding the memory held for an upload.
	DefaultObjectSize = 4 << 20
	// objectSeqDigits is the width of the sequence number that ends each
	// object's name. Nine digits keep it apart from the 10-digit seconds
	// that eventFileName looks for in earlier names.
	objectSeqDigits = 9
)

// objectFile is the io.Writer of a Writer on an object store. Writes gather
// in memory; an upload puts them, behind a file_version event, as the
// session's next object <base>.<seq>. The first object also holds the
// SessionLog START (written by newWriter), so only it has one. An upload
// happens on Flush, Sync and Close, and otherwise when a Write finds more
// than size bytes waiting or interval passed since the last upload. A failed
// upload is returned (and becomes the Writer's sticky error); nothing is
// retried here (the store retries transient errors).
type objectFile struct {
	st       storage.Store
	dir      string // key of the run directory
	base     string // name of the session's objects before .<seq>
	seq      int
	pending  []byte
	last     time.Time // of the last upload; zero before the first
	now      func() time.Time
	interval time.Duration
	size     int
	uploads  int
}

func (o *objectFile) Write(p []byte) (int, error) {
	o.pending = append(o.pending, p...)
	if len(o.pending) >= o.size || o.last.IsZero() || o.now().Sub(o.last) >= o.interval {
		if err := o.upload(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush uploads what is waiting.
func (o *objectFile) Flush() error { return o.upload() }

// Sync uploads what is waiting; a stored object is durable.
func (o *objectFile) Sync() error { return o.upload() }

// name returns the name of object seq.
func (o *objectFile) name(seq int) string {
	return fmt.Sprintf("%s.%0*d", o.base, objectSeqDigits, seq)
}

func (o *objectFile) upload() error {
	if len(o.pending) == 0 {
		return nil
	}
	data := o.pending
	if o.seq > 0 {
		// Every object starts with file_version, as every event file does.
		head, err := fileVersionRecord(o.now())
		if err != nil {
			return err
		}
		data = append(head, o.pending...)
	}
	key := o.dir + "/" + o.name(o.seq)
	if err := o.st.Put(context.Background(), key, data); err != nil {
		return err
	}
	o.seq++
	o.uploads++
	o.pending = o.pending[:0]
	o.last = o.now()
	if cap(o.pending) > 2*o.size {
		o.pending = nil // an image grew it; do not keep it
	}
	return nil
}

// fileVersionRecord returns the framed file_version event stamped t.
func fileVersionRecord(t time.Time) ([]byte, error) {
	p, err := proto.Marshal(&tbpb.Event{
		WallTime:       wallSeconds(t),
		What:           &tbpb.Event_FileVersion{FileVersion: fileVersion},
		SourceMetadata: &tbpb.SourceMetadata{Writer: sourceWriter},
	})
	if err != nil {
		return nil, fmt.Errorf("tbwriter: encode header event: %w", err)
	}
	return AppendRecord(nil, p), nil
}

// createObjects starts a Writer whose events go to objects under dir in st.
func createObjects(st storage.Store, dir, host string, t time.Time, opts Options) (*Writer, error) {
	ctx := context.Background()
	list, err := st.List(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("tbwriter: create event file: %w", err)
	}
	last := ""
	for _, e := range list {
		if !e.Dir && IsEventFile(e.Name()) && e.Name() > last {
			last = e.Name()
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	o := &objectFile{
		st:       st,
		dir:      dir,
		base:     eventFileName(last, t.Unix(), host, os.Getpid(), fileCounter.Add(1)-1),
		now:      now,
		interval: opts.ObjectInterval,
		size:     opts.ObjectSize,
	}
	if o.interval <= 0 {
		o.interval = DefaultObjectInterval
	}
	if o.size <= 0 {
		o.size = DefaultObjectSize
	}
	// The name of the first object names the session in errors.
	return newWriter(nil, o, st.Location(dir+"/"+o.name(0)), opts)
}

// readObject reads the event file at a store URL whole.
func readObject(loc string) *EventFile {
	st, key, err := storage.For(loc)
	if err != nil {
		return &EventFile{Path: loc, Err: err}
	}
	b, err := st.Get(context.Background(), key, 0, -1)
	if err != nil {
		return &EventFile{Path: loc, Err: err}
	}
	return ReadEventStream(bytes.NewReader(b), loc)
}

// readLogdirStore is ReadLogdir for a store URL: a store has no links, so
// the walk is a plain recursion over List.
func readLogdirStore(dir string) ([]*Run, error) {
	st, key, err := storage.For(dir)
	if err != nil {
		return nil, fmt.Errorf("tbwriter: read logdir: %w", err)
	}
	byDir := map[string][]string{}
	var walk func(k string, depth int) error
	walk = func(k string, depth int) error {
		if depth > maxStoreDepth {
			return nil
		}
		files, dirs, err := listStore(st, k)
		if err != nil {
			return err
		}
		if len(files) > 0 {
			byDir[k] = files
		}
		for _, d := range dirs {
			if err := walk(d, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(key, 0); err != nil {
		return nil, fmt.Errorf("tbwriter: read logdir: %w", err)
	}
	var runs []*Run
	for runKey, files := range byDir {
		name := strings.TrimPrefix(strings.TrimPrefix(runKey, key), "/")
		if name == "" {
			name = "."
		}
		sort.Strings(files)
		run := &Run{Name: name, Files: files}
		run.load()
		runs = append(runs, run)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Name < runs[j].Name })
	return runs, nil
}

// listStore returns the locations of the event objects directly under key
// and the keys of the prefixes under it.
func listStore(st storage.Store, key string) (files, dirs []string, err error) {
	list, err := st.List(context.Background(), key)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range list {
		switch {
		case e.Dir:
			dirs = append(dirs, e.Key)
		case IsEventFile(e.Name()):
			files = append(files, st.Location(e.Key))
		}
	}
	return files, dirs, nil
}

// maxStoreDepth bounds the walk of a store's prefixes (a run is at most a
// few levels below the log directory; the bound only stops a pathological
// key space from recursing without end).
const maxStoreDepth = 64
