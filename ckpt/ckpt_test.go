package ckpt

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/tbtrain/tbtrain/proto/ckptpb"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, lenet := range []bool{false, true} {
		t.Run(fmt.Sprint("lenet=", lenet), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "LenetMnist3.ckpt")
			want := sample(42, lenet)
			mustSave(t, path, want)
			got, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := st.Size(), int64(Overhead+proto.Size(want)); got != want {
				t.Errorf("file size %d, want %d", got, want)
			}
			if got := st.Mode().Perm(); got != filePerm {
				t.Errorf("file mode %v, want %v", got, filePerm)
			}
			if diff := cmp.Diff([]string{"LenetMnist3.ckpt"}, dirNames(t, dir)); diff != "" {
				t.Errorf("directory after Save (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSaveOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ckpt")
	mustSave(t, path, sample(1, false))
	mustSave(t, path, sample(2, false))
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetGlobalStep() != 2 {
		t.Errorf("after overwrite: step %d, want 2", got.GetGlobalStep())
	}
}

func TestSaveRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	mustSave(t, "x.ckpt", sample(3, false))
	if _, err := Load("x.ckpt"); err != nil {
		t.Fatal(err)
	}
}

// TestLoadTruncated cuts a small checkpoint at every length, and a LeNet-sized
// one (about 0.5 MB) at every header length, every 997th payload length and
// each of its last bytes: every cut is ErrTruncated.
func TestLoadTruncated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.ckpt")
	check := func(full []byte, n int) {
		writeFile(t, path, full[:n])
		_, err := Load(path)
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d bytes: %v, want ErrTruncated", n, len(full), err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Path != path || e.Op != "load" {
			t.Fatalf("cut at %d: error %#v does not name the file", n, err)
		}
	}
	small := mustEncode(t, sample(5, false))
	for n := range len(small) {
		check(small, n)
	}
	big := mustEncode(t, sample(5, true))
	cases := 0
	for n := 0; n < len(big); n++ {
		if n <= headerLen || n%997 == 0 || n >= len(big)-2*trailerLen {
			check(big, n)
			cases++
		}
	}
	t.Logf("truncated %d-byte checkpoint at all %d lengths, %d-byte one at %d lengths", len(small), len(small), len(big), cases)
}

// TestLoadFlippedByte flips every byte of a small checkpoint in three ways;
// each damaged file fails with the error its region promises.
func TestLoadFlippedByte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.ckpt")
	good := mustEncode(t, sample(9, false))
	cases := 0
	for i := range good {
		want := ErrCorrupt
		if i < magicLen {
			want = ErrNotCheckpoint
		}
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(good)
			b[i] ^= mask
			writeFile(t, path, b)
			_, err := Load(path)
			if !errors.Is(err, want) {
				t.Fatalf("byte %d ^ %#02x: %v, want %v", i, mask, err, want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			cases++
		}
	}
	t.Logf("%d flipped-byte cases", cases)
}

func TestLoadErrors(t *testing.T) {
	good := sample(7, false)
	futureFormat := proto.Clone(good).(*ckptpb.Checkpoint)
	futureFormat.FormatVersion = 2
	badShape := proto.Clone(good).(*ckptpb.Checkpoint)
	badShape.Params[0].Shape = []int64{3, 3}
	noBuffers := proto.Clone(good).(*ckptpb.Checkpoint)
	noBuffers.Optimizer.MomentumBuffer = noBuffers.Optimizer.MomentumBuffer[:1]
	negStep := proto.Clone(good).(*ckptpb.Checkpoint)
	negStep.GlobalStep = -1
	hugeLen := fixHeaderCRC(envelope(1, nil), 1<<40) // 1 TiB payload announced, header CRC valid

	tests := []struct {
		name    string
		content []byte // file content; nil with dir=true makes a directory
		dir     bool
		missing bool
		want    error
		text    string
	}{
		{name: "zero-length", content: []byte{}, want: ErrTruncated, text: "empty file"},
		{name: "magic only", content: magic[:], want: ErrTruncated, text: "shorter than the 24-byte header"},
		{name: "text file", content: []byte("epoch=3 step=100\n"), want: ErrNotCheckpoint, text: "not the checkpoint magic"},
		{name: "PNG file", content: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), want: ErrNotCheckpoint, text: "magic"},
		{name: "gzip file", content: []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, want: ErrNotCheckpoint, text: "1f 8b"},
		{name: "bare protobuf (no envelope)", content: mustMarshal(t, good), want: ErrNotCheckpoint, text: "magic"},
		{name: "future envelope version", content: envelope(2, mustMarshal(t, good)), want: ErrVersion, text: "envelope version 2"},
		{name: "future format version", content: envelope(1, mustMarshal(t, futureFormat)), want: ErrVersion, text: "format_version 2"},
		{name: "implausible length", content: hugeLen, want: ErrCorrupt, text: "over the"},
		{name: "trailing bytes", content: append(mustEncode(t, good), 0), want: ErrCorrupt, text: "1 unexpected bytes"},
		{name: "payload not protobuf", content: envelope(1, []byte{0xff, 0xff, 0xff}), want: ErrCorrupt, text: "does not decode"},
		{name: "shape disagrees with data", content: envelope(1, mustMarshal(t, badShape)), want: ErrInvalid, text: "params[0]"},
		{name: "momentum buffers missing", content: envelope(1, mustMarshal(t, noBuffers)), want: ErrInvalid, text: "1 momentum buffers for 2 parameters"},
		{name: "negative step", content: envelope(1, mustMarshal(t, negStep)), want: ErrInvalid, text: "negative"},
		{name: "directory", dir: true, want: ErrNotCheckpoint, text: "is a directory"},
		{name: "missing", missing: true, want: fs.ErrNotExist, text: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "LenetMnist1.ckpt")
			switch {
			case tc.dir:
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			case !tc.missing:
				writeFile(t, path, tc.content)
			}
			c, err := Load(path)
			if c != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Load = %v, %v; want nil, %v", c, err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Path != path {
				t.Fatalf("error %v is not an *Error naming %s", err, path)
			}
			if !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should contain %q and the path", err, tc.text)
			}
		})
	}
}

// fixHeaderCRC sets the payload length field to n and recomputes the header CRC.
func fixHeaderCRC(b []byte, n uint64) []byte {
	b = bytes.Clone(b)
	var hdr [headerLen]byte
	copy(hdr[:], magic[:])
	putLE32(hdr[magicLen:], EnvelopeVersion)
	putLE64(hdr[magicLen+4:], n)
	putLE32(hdr[magicLen+12:], crc32c(hdr[:magicLen+12]))
	copy(b, hdr[:])
	return b
}

func TestSaveRefusesInvalid(t *testing.T) {
	noVersion := sample(1, false)
	noVersion.FormatVersion = 0
	noModel := sample(1, false)
	noModel.Model = ""
	badTensor := sample(1, false)
	badTensor.Optimizer.MomentumBuffer[1].Data = nil
	for _, tc := range []struct {
		name string
		c    *ckptpb.Checkpoint
		want error
	}{
		{"format_version 0", noVersion, ErrVersion},
		{"no model", noModel, ErrInvalid},
		{"momentum buffer without data", badTensor, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.ckpt")
			if err := Save(path, tc.c); !errors.Is(err, tc.want) {
				t.Fatalf("Save = %v, want %v", err, tc.want)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("Save of an invalid checkpoint left %v", names)
			}
		})
	}
}

func TestSaveOntoDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.ckpt")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, sample(1, false)); err == nil {
		t.Fatal("Save over a directory succeeded")
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Errorf("directory %s damaged: %v", path, err)
	}
	if diff := cmp.Diff([]string{"x.ckpt"}, dirNames(t, dir)); diff != "" {
		t.Errorf("temp file left behind (-want +got):\n%s", diff)
	}
	if err := Save(dir+string(filepath.Separator), sample(1, false)); err == nil {
		t.Error("Save to a path ending in a separator succeeded")
	}
}

func TestCheckModel(t *testing.T) {
	c := sample(1, false)
	want := []ParamShape{{"w", []int{2, 3}}, {"b", []int{2}}}
	if err := CheckModel(c, "lenet5-mnist", want); err != nil {
		t.Fatalf("CheckModel on a matching checkpoint: %v", err)
	}
	for _, tc := range []struct {
		name  string
		model string
		want  []ParamShape
		text  string
	}{
		{"other model", "resnet", want, `model "lenet5-mnist", want "resnet"`},
		{"fewer params", "lenet5-mnist", want[:1], "2 parameter tensors, want 1"},
		{"other shape", "lenet5-mnist", []ParamShape{{"w", []int{3, 2}}, {"b", []int{2}}}, "parameter 0 is w [2 3], want w [3 2]"},
		{"other name", "lenet5-mnist", []ParamShape{{"w", []int{2, 3}}, {"bias", []int{2}}}, "want bias"},
		{"other rank", "lenet5-mnist", []ParamShape{{"w", []int{6}}, {"b", []int{2}}}, "want w [6]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckModel(c, tc.model, tc.want)
			if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("CheckModel = %v, want ErrModel containing %q", err, tc.text)
			}
		})
	}
}
