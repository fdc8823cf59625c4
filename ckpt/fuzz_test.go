package ckpt

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/testing/protocmp"
)

// FuzzDecode feeds arbitrary bytes to the checkpoint decoder. It must never
// panic; every failure must wrap one of the package's sentinels; and whatever
// it accepts must re-encode and decode to the same checkpoint.
func FuzzDecode(f *testing.F) {
	good := mustEncode(f, sample(3, false))
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	for _, b := range [][]byte{
		good, good[:headerLen], good[:len(good)-1], flipped,
		envelope(1, nil), envelope(2, nil), envelope(1, []byte{0x08, 0x01}), // format_version 1 only: no model
		envelope(1, mustMarshal(f, sample(0, false))[:40]),
		magic[:], {},
	} {
		f.Add(b)
	}
	sentinels := []error{ErrNotCheckpoint, ErrTruncated, ErrCorrupt, ErrVersion, ErrInvalid}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decode(b)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		re, err := encode(c)
		if err != nil {
			t.Fatalf("decoded checkpoint does not re-encode: %v", err)
		}
		c2, err := decode(re)
		if err != nil {
			t.Fatalf("re-encoded checkpoint does not decode: %v", err)
		}
		if diff := cmp.Diff(c, c2, protocmp.Transform(), cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("decode(encode(c)) != c (-first +second):\n%s", diff)
		}
	})
}
