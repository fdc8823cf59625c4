package tbwriter

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// FuzzReadEvents feeds arbitrary bytes to the event reader: it must not
// panic, must return only the documented error kinds, and must return
// exactly the events of the records before the error.
func FuzzReadEvents(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtures, "damaged", "*", "events.out.tfevents.*"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil && len(data) < 8192 {
			f.Add(data)
		}
	}
	f.Add(appendScalarRecord(nil, 1, 2, "x", 3, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := ReadEvents(bytes.NewReader(data), "fuzz")
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != "fuzz" || fe.Offset < 0 || fe.Offset > int64(len(data)) {
				t.Fatalf("error %v is not a *FileError with a sane offset", err)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrLengthCRC) &&
				!errors.Is(err, ErrDataCRC) && !errors.Is(err, ErrNotEvent) && !errors.Is(err, ErrRecordTooLarge) {
				t.Fatalf("undocumented error kind: %v", err)
			}
		}
		// Cross-check with the framing layer alone.
		rr := NewRecordReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			p, rerr := rr.Next()
			if rerr != nil {
				if i != len(events) && !errors.Is(err, ErrNotEvent) {
					t.Fatalf("%d records before the framing stopped, %d events", i, len(events))
				}
				break
			}
			if i >= len(events) {
				if !errors.Is(err, ErrNotEvent) {
					t.Fatalf("record %d not returned as an event, err %v", i, err)
				}
				break
			}
			want := new(tbpb.Event)
			if proto.Unmarshal(p, want) != nil || !proto.Equal(want, events[i]) {
				t.Fatalf("event %d differs from its record", i)
			}
		}
	})
}

// FuzzScalarEvent checks the hand-written scalar encoder against the
// generated protobuf code for arbitrary inputs.
func FuzzScalarEvent(f *testing.F) {
	f.Add(1795952040.5, int64(0), "loss", float32(1))
	f.Add(0.0, int64(-1), "", float32(math.NaN()))
	f.Add(math.Inf(1), int64(math.MaxInt64), "a/b/c", float32(math.Inf(-1)))
	f.Fuzz(func(t *testing.T, wall float64, step int64, tag string, v float32) {
		if !utf8.ValidString(tag) {
			return // AddScalar rejects these
		}
		got := new(tbpb.Event)
		if err := proto.Unmarshal(appendScalarEvent(nil, wall, step, tag, v), got); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if math.Float64bits(got.WallTime) != math.Float64bits(wall) && !(wall == 0 && got.WallTime == 0) {
			t.Fatalf("wall time %v, want %v", got.WallTime, wall)
		}
		vals := got.GetSummary().GetValue()
		if got.Step != step || len(vals) != 1 || vals[0].Tag != tag {
			t.Fatalf("decoded %v", got)
		}
		if sv, ok := vals[0].Value.(*tbpb.Summary_Value_SimpleValue); !ok || math.Float32bits(sv.SimpleValue) != math.Float32bits(v) {
			t.Fatalf("value %v, want %v", vals[0].Value, v)
		}
		if n, m := len(appendScalarEvent(nil, wall, step, tag, v)), proto.Size(got); n != m {
			t.Fatalf("encoded %d bytes, proto.Size %d", n, m)
		}
	})
}
