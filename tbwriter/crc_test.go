package tbwriter

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// fixtures is the project's folder of real TensorBoard event files (see its
// README.md for where each came from).
var fixtures = filepath.Join("..", "testdata", "tensorboard")

func TestCRC32CGolden(t *testing.T) {
	ascending := make([]byte, 32)
	descending := make([]byte, 32)
	for i := range 32 {
		ascending[i] = byte(i)
		descending[i] = byte(31 - i)
	}
	// RFC 3720 (iSCSI), appendix B.4 "CRC Examples". The RFC prints the CRC
	// bytes in transmission order (least significant byte first); the values
	// here are those bytes read as a little-endian uint32.
	tests := []struct {
		name string
		in   []byte
		want uint32
	}{
		{"32 bytes of zeroes", make([]byte, 32), 0x8a9136aa},
		{"32 bytes of ones", bytes.Repeat([]byte{0xff}, 32), 0x62a8ab43},
		{"32 bytes ascending", ascending, 0x46dd794e},
		{"32 bytes descending", descending, 0x113fdb5c},
	}
	for _, tt := range tests {
		if got := crc32.Checksum(tt.in, castagnoli); got != tt.want {
			t.Errorf("%s: crc32c = %#08x, want %#08x", tt.name, got, tt.want)
		}
		m := ComputeMaskedCRC(tt.in)
		if got := m.Unmask(); got != tt.want {
			t.Errorf("%s: Unmask(ComputeMaskedCRC) = %#08x, want %#08x", tt.name, got, tt.want)
		}
		if got := MaskCRC(tt.want); got != m {
			t.Errorf("%s: MaskCRC = %#08x, want %#08x", tt.name, uint32(got), uint32(m))
		}
	}
}

func TestMaskedCRCGolden(t *testing.T) {
	// From TensorBoard's data/server/masked_crc.rs: the masked CRC of a real
	// TensorFlow record holding Event(file_version="CRC test, one two").
	got := ComputeMaskedCRC([]byte("\x1a\x11CRC test, one two"))
	if want := MaskedCRC(0x5794d08a); got != want {
		t.Errorf("masked crc = %#08x, want %#08x", uint32(got), uint32(want))
	}
}

// TestMaskedCRCFixture checks both CRCs of the first record of a file that
// TensorBoard's own Python writer produced (a fixture).
func TestMaskedCRCFixture(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "damaged", "clean", "events.out.tfevents.1795952040.vm.13683.0"))
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if got, want := ComputeMaskedCRC(data[:8]), MaskedCRC(binary.LittleEndian.Uint32(data[8:12])); got != want {
		t.Errorf("length crc = %#08x, file says %#08x", uint32(got), uint32(want))
	}
	payload := data[12 : 12+n]
	if got, want := ComputeMaskedCRC(payload), MaskedCRC(binary.LittleEndian.Uint32(data[12+n:])); got != want {
		t.Errorf("data crc = %#08x, file says %#08x", uint32(got), uint32(want))
	}
	if !bytes.Contains(payload, []byte("brain.Event:2")) {
		t.Errorf("first record %q does not hold the file_version", payload)
	}
}

func TestMaskRoundTrip(t *testing.T) {
	for _, c := range []uint32{0, 1, 0xffffffff, 0x8a9136aa, 0x80000000, 0x12345678} {
		if got := MaskCRC(c).Unmask(); got != c {
			t.Errorf("MaskCRC(%#x).Unmask() = %#x", c, got)
		}
	}
}
