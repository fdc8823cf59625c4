package tbpb_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tbtrain/tbtrain/proto/tbpb"
)

// fixtures is the project's folder of real TensorBoard event files (see its
// README.md for where each came from).
const fixtures = "../../testdata/tensorboard"

// countUnknown returns the number of unknown-field bytes in m and every
// message below it. A non-zero count on a real file means a field number in
// our schemas disagrees with the writer's.
func countUnknown(m protoreflect.Message) int {
	n := len(m.GetUnknown())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				n += countUnknown(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				n += countUnknown(mv.Message())
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			n += countUnknown(v.Message())
		}
		return true
	})
	return n
}

// splitRecords cuts a whole, undamaged event file into record payloads. The
// framing (u64 little-endian length, u32 length CRC, payload, u32 payload
// CRC; tensorboard/summary/writer/record_writer.py) is checked only for
// length here; CRCs are package tbwriter's business.
func splitRecords(b []byte) ([][]byte, error) {
	var recs [][]byte
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			return nil, fmt.Errorf("offset %d: %d trailing bytes", off, len(b)-off)
		}
		n := binary.LittleEndian.Uint64(b[off:])
		if n > uint64(len(b)-off-16) {
			return nil, fmt.Errorf("offset %d: length %d exceeds file", off, n)
		}
		recs = append(recs, b[off+12:off+12+int(n)])
		off += 16 + int(n)
	}
	return recs, nil
}

// view is the part of a tensorboard-view.json this test uses.
type view struct {
	Runs map[string]struct {
		RecordScan map[string]struct {
			Records int `json:"records"`
		} `json:"record_scan"`
		SourceWriter string `json:"source_writer"`
	} `json:"runs"`
}

// TestDecodeRealFiles decodes every record of the undamaged fixtures
// (written by PyTorch and by TensorBoard's own writer) and requires that no
// byte ends up in an unknown field, that the record counts agree with
// TensorBoard's record_scan, and that hparams plugin content decodes cleanly.
func TestDecodeRealFiles(t *testing.T) {
	hparamsSeen := 0
	for _, group := range []string{"seed-2022", "torch-1.13", "purge-variants"} {
		vb, err := os.ReadFile(filepath.Join(fixtures, group, "tensorboard-view.json"))
		if err != nil {
			t.Fatal(err)
		}
		var v view
		if err := json.Unmarshal(vb, &v); err != nil {
			t.Fatalf("%s: %v", group, err)
		}
		if len(v.Runs) == 0 {
			t.Fatalf("%s: view lists no runs", group)
		}
		for run, rv := range v.Runs {
			for file, scan := range rv.RecordScan {
				path := filepath.Join(fixtures, group, filepath.FromSlash(run), file)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				recs, err := splitRecords(b)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if len(recs) != scan.Records {
					t.Errorf("%s: %d records, TensorBoard read %d", path, len(recs), scan.Records)
				}
				for i, r := range recs {
					ev := new(tbpb.Event)
					if err := proto.Unmarshal(r, ev); err != nil {
						t.Fatalf("%s record %d: %v", path, i, err)
					}
					if n := countUnknown(ev.ProtoReflect()); n != 0 {
						t.Errorf("%s record %d: %d bytes in unknown fields: %v", path, i, n, ev)
					}
					if i == 0 {
						if fv := ev.GetFileVersion(); rv.SourceWriter != "" && !strings.HasPrefix(fv, "brain.Event:") {
							t.Errorf("%s: first record file_version = %q", path, fv)
						}
						if w := ev.GetSourceMetadata().GetWriter(); rv.SourceWriter != "" && w != rv.SourceWriter {
							t.Errorf("%s: source writer %q, TensorBoard saw %q", path, w, rv.SourceWriter)
						}
					}
					for _, val := range ev.GetSummary().GetValue() {
						pd := val.GetMetadata().GetPluginData()
						if pd.GetPluginName() != "hparams" {
							continue
						}
						hp := new(tbpb.HParamsPluginData)
						if err := proto.Unmarshal(pd.GetContent(), hp); err != nil {
							t.Fatalf("%s record %d tag %q: hparams content: %v", path, i, val.GetTag(), err)
						}
						if n := countUnknown(hp.ProtoReflect()); n != 0 {
							t.Errorf("%s record %d tag %q: %d unknown bytes in hparams content", path, i, val.GetTag(), n)
						}
						if hp.GetData() == nil {
							t.Errorf("%s record %d tag %q: hparams content has no data", path, i, val.GetTag())
						}
						hparamsSeen++
					}
				}
			}
		}
	}
	// torch-1.13/hp holds PyTorch's add_hparams output: experiment, session
	// start and session end (README.md of the fixtures).
	if hparamsSeen < 3 {
		t.Errorf("decoded %d hparams plugin values, want at least 3", hparamsSeen)
	}
}
