package tbwriter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/internal/errpath"
	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/proto/tbpb"
	"github.com/tbtrain/tbtrain/storage"
)

// Defaults for the zero values of [Options].
const (
	// DefaultQueueSize is the queue length used when Options.QueueSize is 0.
	// It is large enough that logging a few hundred scalars per training
	// step never waits for the disk.
	DefaultQueueSize = 1024

	// DefaultFlushInterval is used when Options.FlushInterval is 0: 120 s,
	// the default flush_secs of TensorBoard's EventFileWriter
	// (tensorboard/summary/writer/event_file_writer.py) and of PyTorch's
	// torch.utils.tensorboard.SummaryWriter.
	DefaultFlushInterval = 120 * time.Second

	// fileVersion is the file_version TensorBoard expects as the first
	// event of a file (event.proto: "brain.Event:2"). Version 2 makes the
	// Python loader purge on SessionLog START instead of on out-of-order steps.
	fileVersion = "brain.Event:2"

	// sourceWriter identifies this package in Event.source_metadata.
	sourceWriter = "github.com/tbtrain/tbtrain/tbwriter"

	// writeBufferSize is how many bytes of framed records the background
	// goroutine gathers before it writes them to the file (64 KiB, the
	// usual size of a pipe or socket buffer; large enough to amortize the
	// write system call over ~1,500 scalar records).
	writeBufferSize = 64 << 10
)

// Options configure a [Writer]. The zero value is ready to use.
type Options struct {
	// StartStep is the step of this session's SessionLog START: 0 for a
	// fresh run, s when the caller resumes at step s (and re-logs from s).
	StartStep int64

	// QueueSize bounds the number of events waiting for the background
	// goroutine; Add methods block while it is full. 0 means
	// DefaultQueueSize; the minimum is 1.
	QueueSize int

	// FlushInterval is how often buffered records are written to the file.
	// 0 means DefaultFlushInterval; a negative value disables the timer
	// (data then reaches the file when the buffer fills, on Flush, Sync
	// and Close).
	FlushInterval time.Duration

	// Host is the host name used in the file name. "" means os.Hostname
	// (or "localhost" if that fails). Path separators are replaced by '_'.
	Host string

	// Now returns the wall time stamped on events. nil means time.Now.
	Now func() time.Time

	// ObjectInterval and ObjectSize set how often a Writer on an object
	// store (an s3:// dir), which uploads each flush as a new object,
	// uploads between explicit Flush and Sync calls: when a timer flush
	// finds ObjectInterval passed since the last upload, or more than
	// ObjectSize bytes waiting. 0 means DefaultObjectInterval and
	// DefaultObjectSize. Local files ignore them.
	ObjectInterval time.Duration
	ObjectSize     int
}

// Writer writes summaries to one event file. It is safe for concurrent use;
// see the package documentation for the queue and flush contract.
//
// A Writer returned by [Writer.WithWallTime] is a view of the same writer
// that stamps its events with a fixed wall time.
type Writer struct {
	*writerState

	// wall, when hasWall, is the wall time of every event this view adds
	// (WithWallTime); wallErr is why that time is unusable (not finite).
	wall    float64
	hasWall bool
	wallErr error
}

// writerState is what every view of a Writer shares: the file, the queue
// and the background goroutine.
type writerState struct {
	path  string
	name  string    // for errors: path, or "event stream" for NewWriter
	file  *os.File  // nil when the Writer does not own its destination
	dst   io.Writer // where framed records go
	now   func() time.Time
	start time.Time

	q *queue

	err       atomic.Pointer[error] // sticky background error
	done      chan struct{}         // closed when the background goroutine exits
	closeOnce sync.Once
	closeErr  error

	kinds tagKinds // plugin of every tag queued

	hparamsMu     sync.Mutex
	hparamsSet    bool
	hparamsStatus tbpb.Status // written by Close; STATUS_SUCCESS unless set

	flushDelay time.Duration
	hdr        headerCache // owned by the background goroutine

	opts Options // as given to Create, for the AddScalars sub-run writers
	subs subRuns // the AddScalars sub-run writers, created on first use
}

type itemKind uint8

const (
	kindScalar  itemKind = iota // tag, step, wall, value: encoded in the background
	kindPayload                 // payload: a serialized Event
	kindFlush                   // write buffered records to the file, reply on done
	kindSync                    // as kindFlush, then fsync
)

type item struct {
	kind    itemKind
	value   float32
	step    int64
	wall    float64
	tag     string
	payload []byte
	done    chan error
}

// fileCounter numbers the event files this process creates, as the
// <counter> part of the name (TensorFlow and PyTorch keep a process-wide
// counter in the same place).
var fileCounter atomic.Int64

// Create creates a new event file in dir and returns a Writer for it. dir
// and its parents are created if missing (as PyTorch's SummaryWriter does).
// dir may be a URL of a store registered with storage.Register (s3://...):
// there each upload is a new object (see the package documentation).
// The file name sorts after every event file already in dir (see the
// package documentation). The file starts with the file_version event and a
// SessionLog START at opts.StartStep; both are written to the file before
// Create returns.
func Create(dir string, opts Options) (*Writer, error) {
	host := opts.Host
	if host == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		host = h
	}
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == os.PathSeparator || r == 0 {
			return '_'
		}
		return r
	}, host)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if storage.IsURL(dir) {
		st, key, err := storage.For(dir)
		if err != nil {
			return nil, fmt.Errorf("tbwriter: %w", err)
		}
		w, err := createObjects(st, key, host, now(), opts)
		if err != nil {
			return nil, err
		}
		w.path = storage.Join(dir, storage.Base(w.path))
		w.opts = opts
		return w, nil
	}
	f, path, err := createEventFile(dir, host, now())
	if err != nil {
		return nil, err
	}
	w, err := newWriter(f, f, path, opts)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.opts = opts
	return w, nil
}

// NewWriter returns a Writer that writes an event stream to dst, which it
// does not own: Close flushes but never closes dst, and Sync calls
// dst.Sync() only when dst has that method. The file_version and START
// events are written to dst before NewWriter returns. Errors name the
// destination "event stream".
func NewWriter(dst io.Writer, opts Options) (*Writer, error) {
	return newWriter(nil, dst, "", opts)
}

// eventFilePrefix starts the name of every event file Create makes, as
// TensorFlow's and PyTorch's writers name theirs.
const eventFilePrefix = "events.out.tfevents."

// createEventFile creates dir if needed, picks a name that sorts after every
// event file in it (see eventFileName) and creates the file exclusively.
func createEventFile(dir, host string, t time.Time) (*os.File, string, error) {
	// 0o777 before the umask, as os.makedirs in PyTorch's SummaryWriter.
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, "", fmt.Errorf("tbwriter: create event file: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, "", fmt.Errorf("tbwriter: create event file: %w", err)
	}
	last := ""
	// Every name TensorBoard takes for an event file counts (IsEventFile),
	// not only ours: its loaders read all of them in name order.
	for _, e := range entries {
		if !e.IsDir() && IsEventFile(e.Name()) && e.Name() > last {
			last = e.Name()
		}
	}
	pid := os.Getpid()
	for attempt := 0; attempt < 1000; attempt++ {
		name := eventFileName(last, t.Unix(), host, pid, fileCounter.Add(1)-1)
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue // same name from a concurrent writer: next counter
		}
		if err != nil {
			return nil, "", fmt.Errorf("tbwriter: create event file: %w", err)
		}
		return f, path, nil
	}
	return nil, "", fmt.Errorf("tbwriter: create event file in %s: no free name", dir)
}

// eventFileName returns a name for a new event file that sorts after last
// (the greatest event file name in the directory, "" if none):
//
//  1. events.out.tfevents.<secs>.<host>.<pid>.<counter> when that sorts
//     after last;
//  2. otherwise, when last is STEM.<10 digits>[.…] with "tfevents" in STEM
//     (a name of case 1 or 3, from a later clock or another host):
//     STEM.<max(secs, digits+1)>.<host>.<pid>.<counter>, for the first
//     such group of digits below 9999999999;
//  3. otherwise (a foreign name such as "events.out.tfevents.86400.pi.1.0"
//     from a clock at 1970, or "foo.tfevents.1"): last itself followed by
//     .<secs>.<host>.<pid>.<counter>, which sorts after it. Later sessions
//     then take case 2 with last as STEM, so names stop growing.
//
// The result is always > last and contains "tfevents".
func eventFileName(last string, secs int64, host string, pid int, counter int64) string {
	tail := fmt.Sprintf(".%s.%d.%d", host, pid, counter)
	name := fmt.Sprintf("%s%010d%s", eventFilePrefix, secs, tail)
	if name > last {
		return name
	}
	for stem, prev := range secondsGroups(last) {
		if prev >= 9999999999 {
			continue
		}
		name = fmt.Sprintf("%s.%010d%s", stem, max(secs, prev+1), tail)
		if name > last {
			return name
		}
	}
	return fmt.Sprintf("%s.%010d%s", last, secs, tail)
}

// secondsGroups yields, in order, every ".<10 digits>" (followed by '.' or
// the end) after "tfevents" in name: what precedes it, and the number.
func secondsGroups(name string) iter.Seq2[string, int64] {
	return func(yield func(string, int64) bool) {
		i := strings.Index(name, "tfevents")
		if i < 0 {
			return
		}
		for j := i + len("tfevents"); j < len(name); j++ {
			if name[j] != '.' {
				continue
			}
			end := j + 1
			for end < len(name) && name[end] >= '0' && name[end] <= '9' {
				end++
			}
			if end-(j+1) != 10 || (end < len(name) && name[end] != '.') {
				continue
			}
			n, err := strconv.ParseInt(name[j+1:end], 10, 64)
			if err == nil && !yield(name[:j], n) {
				return
			}
		}
	}
}

func newWriter(f *os.File, dst io.Writer, path string, opts Options) (*Writer, error) {
	qs := opts.QueueSize
	if qs <= 0 {
		qs = DefaultQueueSize
	}
	interval := opts.FlushInterval
	if interval == 0 {
		interval = DefaultFlushInterval
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	name := path
	if name == "" {
		name = "event stream"
	}
	w := &Writer{writerState: &writerState{
		path:  path,
		name:  name,
		file:  f,
		dst:   dst,
		now:   now,
		start: now(),
		q:     newQueue(qs),
		done:  make(chan struct{}),
	}}
	// A crash test's pause half-way through each write, so that a kill
	// leaves a torn record (internal/faultinject; never set outside tests).
	// (An object store has no torn writes: uploads are whole objects.)
	if _, objects := dst.(*objectFile); !objects {
		w.flushDelay = faultinject.FlushDelay()
	}

	// The header is written synchronously so that the file is a valid,
	// non-empty event file as soon as Create returns.
	wall := wallSeconds(w.start)
	head := &tbpb.Event{
		WallTime:       wall,
		What:           &tbpb.Event_FileVersion{FileVersion: fileVersion},
		SourceMetadata: &tbpb.SourceMetadata{Writer: sourceWriter},
	}
	start := &tbpb.Event{
		WallTime: wall,
		Step:     opts.StartStep,
		What:     &tbpb.Event_SessionLog{SessionLog: &tbpb.SessionLog{Status: tbpb.SessionLog_START}},
	}
	var buf []byte
	for _, ev := range []*tbpb.Event{head, start} {
		p, err := proto.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("tbwriter: encode header event: %w", err)
		}
		buf = AppendRecord(buf, p)
	}
	n, err := dst.Write(buf)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return nil, fmt.Errorf("tbwriter: write header of %s: %w", name, errpath.Bare(err, name))
	}
	go w.loop(interval)
	return w, nil
}

// wallSeconds converts t to the float seconds of Event.wall_time.
func wallSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// Path returns the event file's path ("" for a Writer from NewWriter).
func (w *Writer) Path() string { return w.path }

// stickyErr returns the background error, if any.
func (w *Writer) stickyErr() error {
	if p := w.err.Load(); p != nil {
		return *p
	}
	return nil
}

// enqueue puts it on the queue, blocking while the queue is full.
func (w *Writer) enqueue(it item) error {
	if err := w.stickyErr(); err != nil {
		if w.q.isClosed() {
			return ErrClosed
		}
		return err
	}
	return w.q.push(context.Background(), it)
}

// WithWallTime returns a view of w whose Add methods stamp every event with
// wall (seconds since the Unix epoch, as Event.wall_time stores it) instead
// of the clock: the walltime= argument of PyTorch's add_* methods, for
// importers and log-repair tools that must keep the original times bit for
// bit. Convert a time.Time with float64(t.UnixNano())/1e9. The view shares
// everything else with w (file, queue, sub-runs, tags): Flush, Sync and
// Close act on the one writer. A wall time that is NaN or infinite makes
// every Add method of the view fail with an error, writing nothing.
func (w *Writer) WithWallTime(wall float64) *Writer {
	v := &Writer{writerState: w.writerState, wall: wall, hasWall: true}
	if math.IsNaN(wall) || math.IsInf(wall, 0) {
		v.wallErr = fmt.Errorf("tbwriter: wall time %v is not finite", wall)
	}
	return v
}

// stamp returns the wall time for an event added now: the view's fixed
// time, or the clock's.
func (w *Writer) stamp() (float64, error) {
	if w.hasWall {
		return w.wall, w.wallErr
	}
	return wallSeconds(w.now()), nil
}

// stampTime is stamp as a time.Time, for data that stores times inside
// plugin content (hparams). A fixed wall time is converted to the nearest
// nanosecond.
func (w *Writer) stampTime() (time.Time, error) {
	if w.hasWall {
		if w.wallErr != nil {
			return time.Time{}, w.wallErr
		}
		sec := math.Floor(w.wall)
		return time.Unix(int64(sec), int64(math.Round((w.wall-sec)*1e9))), nil
	}
	return w.now(), nil
}

// AddScalar logs v under tag at step as a float32 simple_value, the form
// PyTorch writes and both TensorBoard loaders read as a scalar. NaN and ±Inf
// are stored as they are. A tag first logged with another plugin is refused
// with a *KindError. It does not allocate.
func (w *Writer) AddScalar(tag string, step int64, v float32) error {
	if !utf8.ValidString(tag) {
		return fmt.Errorf("tbwriter: tag %q is not valid UTF-8", tag)
	}
	wall, err := w.stamp()
	if err != nil {
		return err
	}
	if err := w.kinds.claimScalar(tag); err != nil {
		return err
	}
	return w.enqueue(item{kind: kindScalar, tag: tag, step: step, value: v, wall: wall})
}

// wallTimeFieldSize is the encoded size of a non-zero Event.wall_time: a
// one-byte tag (field 1, fixed64) and 8 bytes.
const wallTimeFieldSize = 1 + 8

// AddEvent queues an arbitrary event. Its wall_time is set to now (or the
// view's wall time, see WithWallTime) when 0. The Writer does not keep ev.
// Every Add method ends here except AddScalar and AddScalars, and every
// event is checked before anything is queued:
//
//   - its encoded size must not exceed MaxRecordSize (else ErrRecordTooLarge);
//   - each summary value must keep the plugin of its tag's first value on
//     this Writer ([PluginName]; else a *KindError), and a tag of the
//     hparams plugin takes one value only (else ErrHParamsRepeated);
//   - the strings of a text value must be valid UTF-8.
//
// A refused event queues nothing and records no tag.
func (w *Writer) AddEvent(ev *tbpb.Event) error {
	var wall float64
	size := proto.Size(ev)
	if ev.GetWallTime() == 0 {
		var err error
		if wall, err = w.stamp(); err != nil {
			return err
		}
		if wall != 0 {
			size += wallTimeFieldSize
		}
	}
	if size > MaxRecordSize {
		return fmt.Errorf("%w: event of %d bytes (limit %d)%s", ErrRecordTooLarge, size, MaxRecordSize, tagsOf(ev))
	}
	claims, err := eventClaims(ev)
	if err != nil {
		return err
	}
	if wall != 0 {
		ev = proto.CloneOf(ev)
		ev.WallTime = wall
	}
	p, err := proto.Marshal(ev)
	if err != nil {
		return fmt.Errorf("tbwriter: encode event: %w", err)
	}
	if err := w.kinds.claim(claims); err != nil {
		return err
	}
	return w.enqueue(item{kind: kindPayload, payload: p})
}

// tagsOf names the summary tags of ev for an error message.
func tagsOf(ev *tbpb.Event) string {
	vals := ev.GetSummary().GetValue()
	if len(vals) == 0 {
		return ""
	}
	tags := make([]string, len(vals))
	for i, v := range vals {
		tags[i] = strconv.Quote(v.GetTag())
	}
	return " with tags " + strings.Join(tags, ", ")
}

// AddSummary queues one event at step holding the given summary values.
func (w *Writer) AddSummary(step int64, values ...*tbpb.Summary_Value) error {
	wall, err := w.stamp()
	if err != nil {
		return err
	}
	return w.AddEvent(&tbpb.Event{
		WallTime: wall,
		Step:     step,
		What:     &tbpb.Event_Summary{Summary: &tbpb.Summary{Value: values}},
	})
}

// Flush returns once every event queued before the call is written to the
// file (not necessarily to stable storage: see Sync), or when ctx is done.
func (w *Writer) Flush(ctx context.Context) error {
	err := w.marker(ctx, kindFlush)
	return errors.Join(err, w.subs.each(func(s *Writer) error { return s.Flush(ctx) }))
}

// Sync is Flush followed by an fsync of the file. Call it before recording
// elsewhere (a checkpoint, say) that the events exist.
func (w *Writer) Sync() error {
	err := w.marker(context.Background(), kindSync)
	return errors.Join(err, w.subs.each((*Writer).Sync))
}

func (w *Writer) marker(ctx context.Context, kind itemKind) error {
	done := make(chan error, 1)
	if err := w.q.push(ctx, item{kind: kind, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetSessionStatus sets the hparams session status that Close writes when
// AddHParams was called: STATUS_SUCCESS unless set (for example to
// STATUS_FAILURE after an error, or STATUS_RUNNING when stopping to resume).
func (w *Writer) SetSessionStatus(s tbpb.Status) {
	w.hparamsMu.Lock()
	w.hparamsStatus = s
	w.hparamsMu.Unlock()
}

// Close writes the hparams session end (if AddHParams was called and no
// session end was queued yet), flushes, fsyncs and closes the file. It is
// idempotent: later calls return the first call's result. Every other
// method returns ErrClosed afterwards.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		var endErr error
		w.hparamsMu.Lock()
		needEnd, status := w.hparamsSet, w.hparamsStatus
		w.hparamsMu.Unlock()
		if status == tbpb.Status_STATUS_UNKNOWN {
			status = tbpb.Status_STATUS_SUCCESS
		}
		if needEnd && !w.kinds.has(HParamsSessionEndTag) {
			base := &Writer{writerState: w.writerState} // the clock, even on a WithWallTime view
			endErr = base.AddSummary(0, HParamsSessionEndValue(status, w.now()))
		}
		subErr := w.subs.closeAll()
		w.q.close()
		<-w.done
		w.closeErr = w.stickyErr()
		if w.closeErr == nil {
			w.closeErr = errors.Join(endErr, subErr)
		}
	})
	return w.closeErr
}

// loop is the background goroutine: it frames and buffers queued events,
// writes the buffer when it is full, on markers and on the timer, and on
// close writes, fsyncs and closes the file.
func (w *Writer) loop(interval time.Duration) {
	defer close(w.done)
	buf := make([]byte, 0, writeBufferSize+4096)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	var batch []item
	for {
		select {
		case <-w.q.wake:
			var closed bool
			batch, closed = w.q.take(batch)
			for i := range batch {
				buf = w.handle(buf, &batch[i])
				batch[i] = item{} // drop references to tags and payloads
			}
			if closed {
				// close() happens after the last push, so this take
				// returned everything.
				w.writeOut(buf)
				w.finish()
				return
			}
		case <-tick:
			buf = w.writeOut(buf)
		}
	}
}

// handle processes one queued item and returns the buffer.
func (w *Writer) handle(buf []byte, it *item) []byte {
	if err := w.stickyErr(); err != nil {
		// Keep draining so producers never block forever.
		if it.done != nil {
			it.done <- err
		}
		return buf
	}
	switch it.kind {
	case kindScalar:
		buf = appendScalarRecord(buf, it.wall, it.step, it.tag, it.value, &w.hdr)
	case kindPayload:
		buf = AppendRecord(buf, it.payload)
	case kindFlush, kindSync:
		buf = w.writeOut(buf)
		if it.kind == kindSync && w.stickyErr() == nil {
			w.syncDst()
		}
		if o, ok := w.dst.(*objectFile); ok && it.kind == kindFlush && w.stickyErr() == nil {
			// On an object store, written means uploaded.
			if err := o.Flush(); err != nil {
				w.fail(fmt.Errorf("tbwriter: write %s: %w", w.name, errpath.Bare(err, w.name)))
			}
		}
		it.done <- w.stickyErr()
		return buf
	}
	if len(buf) >= writeBufferSize {
		buf = w.writeOut(buf)
	}
	return buf
}

// fail records the first background error.
func (w *Writer) fail(err error) {
	w.err.CompareAndSwap(nil, &err)
}

// writeOut writes buf to the destination and returns it emptied.
func (w *Writer) writeOut(buf []byte) []byte {
	if len(buf) == 0 || w.stickyErr() != nil {
		return buf[:0]
	}
	p := buf
	if w.flushDelay > 0 && len(p) > 1 {
		half := len(p) / 2
		if _, err := w.dst.Write(p[:half]); err != nil {
			w.fail(fmt.Errorf("tbwriter: write %s: %w", w.name, errpath.Bare(err, w.name)))
			return buf[:0]
		}
		time.Sleep(w.flushDelay)
		p = p[half:]
	}
	n, err := w.dst.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.fail(fmt.Errorf("tbwriter: write %s: %w", w.name, errpath.Bare(err, w.name)))
	}
	if cap(buf) > 4*writeBufferSize {
		// A huge record (an image) grew the buffer; do not keep it.
		return make([]byte, 0, writeBufferSize+4096)
	}
	return buf[:0]
}

func (w *Writer) syncDst() {
	if s, ok := w.dst.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			w.fail(fmt.Errorf("tbwriter: sync %s: %w", w.name, errpath.Bare(err, w.name)))
		}
	}
}

// finish fsyncs and closes an owned file.
func (w *Writer) finish() {
	if w.stickyErr() == nil {
		w.syncDst()
	}
	if w.file != nil {
		if err := w.file.Close(); err != nil {
			w.fail(fmt.Errorf("tbwriter: close %s: %w", w.name, errpath.Bare(err, w.name)))
		}
	}
}
