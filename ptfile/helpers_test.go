package ptfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

func mustZip(t testing.TB, b []byte) *zip.Reader {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

// archiveWith returns a torch.save-style zip holding pkl as data.pkl and
// one storage record data/0 of the 16 floats 0, 1, ..., 15.
func archiveWith(t testing.TB, pkl []byte) []byte {
	storage := make([]byte, 0, 64)
	for i := range 16 {
		storage = binary.LittleEndian.AppendUint32(storage, math.Float32bits(float32(i)))
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range []struct {
		name string
		data []byte
	}{{"a/data.pkl", pkl}, {"a/data/0", storage}, {"a/version", []byte("3\n")}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(r.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
