package main

import (
	"bytes"
	"fmt"
)

// sumT512 writes the kernels behind SumTProducts on the AVX-512 path,
// s512x<r>x<v> (r <= 6 rows, v <= 4 vectors of 16 columns), and their
// dispatcher. For each of panels tiles of r×16v elements of C (along a
// row of tiles or down a column of them: each tile's A, B and C are
// astep, bstep and cstep bytes on from the last's) they run every term in
// turn: the term's chain of fused multiply-adds from
// +0 in the accumulators (A read in place, transposed: the r floats of step
// l are contiguous, lda bytes after those of step l-1; no packing), then C
// = the accumulators (first term, unless add is set) or C = fl(C + the
// accumulators) (the others), so the terms are added in their order while
// the tile is in the L1 cache, and no term's product is stored on its own.
func sumT512(w, g *bytes.Buffer) {
	fmt.Fprintf(g, "\n// The sum kernels s512x<r>x<v> compute panels consecutive tiles of r\n")
	fmt.Fprintf(g, "// rows and up to 16·v columns of C = ((P_0 + P_1) + ...) + P_(nt-1),\n")
	fmt.Fprintf(g, "// or C + P_0 + ... in that order if add != 0: P_t is the chain form of\n")
	fmt.Fprintf(g, "// A_tᵀ·B_t from +0 over the term's k steps, element (i, j) of tile q the\n")
	fmt.Fprintf(g, "// chain c = fma(a_t[l*lda+arow+q*astep+4i], b_t[l*ldb+bcol+q*bstep+4j],\n")
	fmt.Fprintf(g, "// c) for l < k (byte offsets), and each sum one float32 addition. The\n")
	fmt.Fprintf(g, "// tiles of C start at c, c+cstep, ... bytes, rows ldc bytes apart. Columns\n")
	fmt.Fprintf(g, "// whose bit in cols is clear are neither read nor written, in B or C.\n")
	fmt.Fprintf(g, "// terms points to nt > 0 sumTerm records; a term's k may be 0.\n")
	for r := 1; r <= mr512; r++ {
		for v := 1; v <= vmax512; v++ {
			sumKernel512(w, r, v)
			fmt.Fprintf(g, "\n//go:noescape\nfunc s512x%dx%d(terms *sumTerm, nt int, add int, arow int, bcol int, c *float32, ldc int, cols uint64, panels int, astep int, bstep int, cstep int)\n", r, v)
		}
	}
	fmt.Fprintf(g, "\n// sum512 calls s512x<r>x<v>.\n")
	fmt.Fprintf(g, "func sum512(r, v int, terms *sumTerm, nt int, add int, arow int, bcol int, c *float32, ldc int, cols uint64, panels int, astep int, bstep int, cstep int) {\n")
	fmt.Fprintf(g, "\tswitch r<<3 | v {\n")
	for r := 1; r <= mr512; r++ {
		for v := 1; v <= vmax512; v++ {
			fmt.Fprintf(g, "\tcase %d<<3 | %d:\n\t\ts512x%dx%d(terms, nt, add, arow, bcol, c, ldc, cols, panels, astep, bstep, cstep)\n", r, v, r, v)
		}
	}
	fmt.Fprintf(g, "\tdefault:\n\t\tpanic(\"kern: no AVX-512 sum kernel for this block\")\n\t}\n}\n")
}

// sumKernel512 writes s512x<r>x<v>. A sumTerm record is five words: a, lda
// (bytes), b, ldb (bytes), k.
// Register use:
//
//	R10 the current term record; R11 the terms left for this tile
//	AX  pointer into A (row stride R8); BX pointer into B (row stride R9)
//	CX  steps left of the current term
//	DX  pointer into C; R13 the current tile's first row; R12 = ldc
//	SI  tiles left; DI = bcol of the current tile (arow in its argument
//	    slot)
//	K1..Kv    the column masks of the v vectors
//	Z0..      accumulators: element block (i, j) in Z(i*v+j)
//	Z24..     the row of B; Z28 a tile row of C; Z30, Z31 broadcasts of A
func sumKernel512(w *bytes.Buffer, r, v int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	name := fmt.Sprintf("s512x%dx%d", r, v)
	acc := func(i, j int) int { return i*v + j }
	const bZ = 24
	p("")
	p("// func %s(terms *sumTerm, nt int, add int, arow int, bcol int, c *float32, ldc int, cols uint64, panels int, astep int, bstep int, cstep int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-96", name)
	colMasks(p, "cols+56(FP)", v)
	p("\tMOVQ bcol+32(FP), DI")
	p("\tMOVQ c+40(FP), R13")
	p("\tMOVQ ldc+48(FP), R12")
	p("\tMOVQ panels+64(FP), SI")
	p("%s_tile:", name)
	p("\tMOVQ terms+0(FP), R10")
	p("\tMOVQ nt+8(FP), R11")
	p("%s_term:", name)
	for i := 0; i < r; i++ {
		for j := 0; j < v; j++ {
			z := acc(i, j)
			p("\tVPXORD Z%d, Z%d, Z%d", z, z, z)
		}
	}
	p("\tMOVQ 0(R10), AX")
	p("\tADDQ arow+24(FP), AX")
	p("\tMOVQ 8(R10), R8")
	p("\tMOVQ 16(R10), BX")
	p("\tADDQ DI, BX")
	p("\tMOVQ 24(R10), R9")
	p("\tMOVQ 32(R10), CX")
	step := func() {
		for j := 0; j < v; j++ {
			p("\tVMOVUPS.Z %d(BX), K%d, Z%d", 64*j, j+1, bZ+j)
		}
		for i := 0; i < r; i++ {
			br := 30 + i%2
			p("\tVBROADCASTSS %d(AX), Z%d", 4*i, br)
			for j := 0; j < v; j++ {
				p("\tVFMADD231PS Z%d, Z%d, Z%d", bZ+j, br, acc(i, j))
			}
		}
		p("\tADDQ R8, AX")
		p("\tADDQ R9, BX")
	}
	p("\tCMPQ CX, $%d", unroll)
	p("\tJLT %s_tail", name)
	p("%s_loop:", name)
	for u := 0; u < unroll; u++ {
		step()
	}
	p("\tSUBQ $%d, CX", unroll)
	p("\tCMPQ CX, $%d", unroll)
	p("\tJGE %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_done", name)
	step()
	p("\tDECQ CX")
	p("\tJMP %s_tail", name)
	p("%s_done:", name)
	p("\tMOVQ R13, DX")
	p("\tCMPQ R11, nt+8(FP)")
	p("\tJNE %s_add", name)
	p("\tCMPQ add+16(FP), $0")
	p("\tJNE %s_add", name)
	for i := 0; i < r; i++ {
		for j := 0; j < v; j++ {
			p("\tVMOVUPS Z%d, K%d, %d(DX)", acc(i, j), j+1, 64*j)
		}
		if i < r-1 {
			p("\tADDQ R12, DX")
		}
	}
	p("\tJMP %s_next", name)
	p("%s_add:", name)
	for i := 0; i < r; i++ {
		for j := 0; j < v; j++ {
			p("\tVMOVUPS.Z %d(DX), K%d, Z28", 64*j, j+1)
			p("\tVADDPS Z28, Z%d, Z%d", acc(i, j), acc(i, j))
			p("\tVMOVUPS Z%d, K%d, %d(DX)", acc(i, j), j+1, 64*j)
		}
		if i < r-1 {
			p("\tADDQ R12, DX")
		}
	}
	p("%s_next:", name)
	p("\tADDQ $40, R10")
	p("\tDECQ R11")
	p("\tJNE %s_term", name)
	p("\tADDQ bstep+80(FP), DI")
	p("\tADDQ cstep+88(FP), R13")
	p("\tMOVQ astep+72(FP), CX")
	p("\tADDQ CX, arow+24(FP)")
	p("\tDECQ SI")
	p("\tJNE %s_tile", name)
	p("\tVZEROUPPER")
	p("\tRET")
}
