package main

import (
	"bytes"
	"fmt"
)

// packAVX2 writes packT256 and packN256, the AVX2 copies of packA's
// panels of r <= 6 rows: one masked load (VMASKMOVPS, which reads no
// masked-off lane) or one gather (VGATHERDPS) of the r floats of a step
// of k, and one masked store of them, instead of r element moves in Go.
// AVX2 has no scatter, so the panel of an A that is not transposed is
// read down its column l with a gather rather than along its rows.
func packAVX2(w, g *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	fmt.Fprintf(g, "\n// packT256 copies, for l < kb, the r floats (1 <= r <= 8) at\n")
	fmt.Fprintf(g, "// src+l*lda bytes to dst+4*r*l bytes: packA's panel of r rows of a\n")
	fmt.Fprintf(g, "// transposed A. mask points to 8 int32 lane masks, -1 for the first r\n")
	fmt.Fprintf(g, "// lanes and 0 for the rest (masked-off lanes are neither read nor\n")
	fmt.Fprintf(g, "// written). kb must be positive.\n")
	fmt.Fprintf(g, "//\n//go:noescape\nfunc packT256(kb int, src *float32, lda int, dst *float32, r int, mask *int32)\n")
	p("")
	p("// func packT256(kb int, src *float32, lda int, dst *float32, r int, mask *int32)")
	p("TEXT ·packT256(SB), NOSPLIT, $0-48")
	p("\tMOVQ kb+0(FP), CX")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ lda+16(FP), R8")
	p("\tMOVQ dst+24(FP), DI")
	p("\tMOVQ r+32(FP), AX")
	p("\tMOVQ mask+40(FP), DX")
	p("\tVMOVDQU (DX), Y1")
	p("\tSHLQ $2, AX")
	p("packT256_loop:")
	p("\tVMASKMOVPS (SI), Y1, Y0")
	p("\tVMASKMOVPS Y0, Y1, (DI)")
	p("\tADDQ R8, SI")
	p("\tADDQ AX, DI")
	p("\tDECQ CX")
	p("\tJNE packT256_loop")
	p("\tVZEROUPPER")
	p("\tRET")

	fmt.Fprintf(g, "\n// packN256 copies element (i, l) of the r×kb matrix at src (row i at\n")
	fmt.Fprintf(g, "// src+4*idx[i] bytes) to dst+4*(l*r+i) bytes: packA's panel of r rows\n")
	fmt.Fprintf(g, "// (1 <= r <= 8) of an A that is not transposed, one gather of the r\n")
	fmt.Fprintf(g, "// floats of column l and one masked store per step. idx holds 8 int32\n")
	fmt.Fprintf(g, "// offsets in floats and mask 8 lane masks as for packT256; kb must be\n")
	fmt.Fprintf(g, "// positive.\n")
	fmt.Fprintf(g, "//\n//go:noescape\nfunc packN256(kb int, src *float32, idx *int32, dst *float32, r int, mask *int32)\n")
	p("")
	p("// func packN256(kb int, src *float32, idx *int32, dst *float32, r int, mask *int32)")
	p("TEXT ·packN256(SB), NOSPLIT, $0-48")
	p("\tMOVQ kb+0(FP), CX")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ idx+16(FP), R8")
	p("\tMOVQ dst+24(FP), DI")
	p("\tMOVQ r+32(FP), AX")
	p("\tMOVQ mask+40(FP), DX")
	p("\tVMOVDQU (R8), Y3")
	p("\tVMOVDQU (DX), Y1")
	p("\tSHLQ $2, AX")
	p("packN256_loop:")
	// The gather clears its mask register and merges into its
	// destination: a fresh copy of the mask and a zeroed destination
	// each step keep the steps independent.
	p("\tVMOVDQU Y1, Y2")
	p("\tVXORPS Y0, Y0, Y0")
	p("\tVGATHERDPS Y2, (SI)(Y3*4), Y0")
	p("\tVMASKMOVPS Y0, Y1, (DI)")
	p("\tADDQ $4, SI")
	p("\tADDQ AX, DI")
	p("\tDECQ CX")
	p("\tJNE packN256_loop")
	p("\tVZEROUPPER")
	p("\tRET")
}
