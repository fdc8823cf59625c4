package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FuzzParseIDX feeds arbitrary bytes to the IDX parser as label (1-D) and
// image (3-D) files, plain or gzip. It must never panic; on success the data
// must hold exactly the elements the header announces, and on failure the
// error must be one of the package's sentinels.
func FuzzParseIDX(f *testing.F) {
	fl, _, _ := tiny()
	for _, b := range [][]byte{
		fl.trainImg, fl.trainLab, fl.testLab, gz(f, fl.testLab), gz(f, fl.testImg),
		fl.trainImg[:20], writeIDX([]uint32{maxItems, Rows, Cols}, nil), {0, 0, 8, 1}, {},
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, ndim := range []int{1, 3} {
			idx, err := parseBytes(raw, ndim)
			if err != nil {
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTruncated) {
					t.Fatalf("error %v wraps no sentinel", err)
				}
				continue
			}
			n := 1
			for _, d := range idx.dims {
				n *= d
			}
			if len(idx.dims) != ndim || len(idx.data) != n {
				t.Fatalf("dims %v, %d data bytes", idx.dims, len(idx.data))
			}
		}
	})
}
