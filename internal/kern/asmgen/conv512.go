package main

import (
	"bytes"
	"fmt"
)

// convShapes lists the convolutions (input H×W, K×K window, no padding)
// that get AVX-512 Im2col and Col2im kernels: LeNet-5's conv2 (14×14 input
// planes, 5×5 window). A plane's rows must fit one ZMM register (W <= 16)
// and all of them the register file (H <= 24).
var convShapes = [][3]int{{14, 14, 5}}

// conv512 writes im2col512h<H>w<W>k<K> and col2im512h<H>w<W>k<K> for each
// shape and their declarations, and the Go function that dispatches on the
// shape.
func conv512(w, g *bytes.Buffer) {
	fmt.Fprintf(g, "\n// The Im2col and Col2im kernels for one channel of count images of\n")
	fmt.Fprintf(g, "// H×W, window K×K, no padding (OH = H-K+1, OW = W-K+1): im2col512h..\n")
	fmt.Fprintf(g, "// writes the K·K rows of the im2col matrix (row r at col + r*ldcol bytes,\n")
	fmt.Fprintf(g, "// image i's OH·OW columns at i*colImg bytes into the row) from the planes\n")
	fmt.Fprintf(g, "// at in + i*inImg bytes; col2im512h.. overwrites the planes with the sums\n")
	fmt.Fprintf(g, "// of Col2im, each pixel's terms added to +0 in increasing row order.\n")
	for _, s := range convShapes {
		h, wd, k := s[0], s[1], s[2]
		im2col512(w, h, wd, k)
		col2im512(w, h, wd, k)
		fmt.Fprintf(g, "\n//go:noescape\nfunc im2col512h%dw%dk%d(col, in *float32, ldcol, colImg, inImg, count int)\n", h, wd, k)
		fmt.Fprintf(g, "\n//go:noescape\nfunc col2im512h%dw%dk%d(in, col *float32, ldcol, colImg, inImg, count int)\n", h, wd, k)
	}
	fmt.Fprintf(g, "\n// conv512 runs the Im2col (col2im false) or Col2im kernel for an h×w input\n")
	fmt.Fprintf(g, "// with a k×k window and no padding, if there is one, and reports whether\n// there is.\n")
	fmt.Fprintf(g, "func conv512(col2im bool, h, w, k int, col, in *float32, ldcol, colImg, inImg, count int) bool {\n")
	fmt.Fprintf(g, "\tswitch {\n")
	for _, s := range convShapes {
		h, wd, k := s[0], s[1], s[2]
		fmt.Fprintf(g, "\tcase h == %d && w == %d && k == %d && col2im:\n\t\tcol2im512h%dw%dk%d(in, col, ldcol, colImg, inImg, count)\n", h, wd, k, h, wd, k)
		fmt.Fprintf(g, "\tcase h == %d && w == %d && k == %d:\n\t\tim2col512h%dw%dk%d(col, in, ldcol, colImg, inImg, count)\n", h, wd, k, h, wd, k)
	}
	fmt.Fprintf(g, "\tdefault:\n\t\treturn false\n\t}\n\treturn true\n}\n")
}

// convPrologue loads the arguments common to both kernels: DI = col, SI =
// in, R8 = ldcol, R9 = colImg, R10 = inImg, CX = count, and the masks.
func convPrologue(p func(string, ...any), name string, colFirst bool) {
	p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	if colFirst {
		p("\tMOVQ col+0(FP), DI")
		p("\tMOVQ in+8(FP), SI")
	} else {
		p("\tMOVQ in+0(FP), SI")
		p("\tMOVQ col+8(FP), DI")
	}
	p("\tMOVQ ldcol+16(FP), R8")
	p("\tMOVQ colImg+24(FP), R9")
	p("\tMOVQ inImg+32(FP), R10")
	p("\tMOVQ count+40(FP), CX")
}

// im2col512 writes the Im2col kernel. Per image: the H rows of the plane
// go into Z0..Z(H-1) (masked loads of W floats, lanes past W zero); row
// (ky, kx) of the im2col matrix, output row oy, is input row oy+ky shifted
// down by kx lanes (VALIGND with the zero register Z31), stored under the
// mask K1 of OW lanes. Register use: SI, DI the plane and column block of
// the image; R11 the current row of col; K2 the mask of W lanes.
func im2col512(w *bytes.Buffer, h, wd, k int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	oh, ow := h-k+1, wd-k+1
	name := fmt.Sprintf("im2col512h%dw%dk%d", h, wd, k)
	p("")
	p("// func %s(col, in *float32, ldcol, colImg, inImg, count int)", name)
	convPrologue(p, name, true)
	p("\tMOVL $%d, AX", 1<<ow-1)
	p("\tKMOVW AX, K1")
	p("\tMOVL $%d, AX", 1<<wd-1)
	p("\tKMOVW AX, K2")
	p("\tVPXORD Z31, Z31, Z31")
	p("%s_image:", name)
	for y := 0; y < h; y++ {
		p("\tVMOVUPS.Z %d(SI), K2, Z%d", 4*wd*y, y)
	}
	p("\tMOVQ DI, R11")
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			for oy := 0; oy < oh; oy++ {
				src := oy + ky
				if kx == 0 {
					p("\tVMOVUPS Z%d, K1, %d(R11)", src, 4*ow*oy)
					continue
				}
				p("\tVALIGND $%d, Z%d, Z31, Z30", kx, src)
				p("\tVMOVUPS Z30, K1, %d(R11)", 4*ow*oy)
			}
			if ky < k-1 || kx < k-1 {
				p("\tADDQ R8, R11")
			}
		}
	}
	p("\tADDQ R9, DI")
	p("\tADDQ R10, SI")
	p("\tDECQ CX")
	p("\tJNE %s_image", name)
	p("\tVZEROUPPER")
	p("\tRET")
}

// col2im512 writes the Col2im kernel. Per image: Z0..Z(H-1) hold the
// plane's rows, from +0; for each row (ky, kx) of the im2col matrix in
// increasing order and each output row oy, the OW floats are loaded into
// lanes kx..kx+OW-1 (a masked load from kx floats before them, mask
// K(1+kx)) and added to row oy+ky. Masked-off lanes add +0, which changes
// no sum (a sum started from +0 is never -0). Then the rows are stored
// under the mask K7 of W lanes.
func col2im512(w *bytes.Buffer, h, wd, k int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	oh, ow := h-k+1, wd-k+1
	name := fmt.Sprintf("col2im512h%dw%dk%d", h, wd, k)
	p("")
	p("// func %s(in, col *float32, ldcol, colImg, inImg, count int)", name)
	convPrologue(p, name, false)
	for kx := 0; kx < k; kx++ {
		p("\tMOVL $%d, AX", (1<<ow-1)<<kx)
		p("\tKMOVW AX, K%d", 1+kx)
	}
	p("\tMOVL $%d, AX", 1<<wd-1)
	p("\tKMOVW AX, K7")
	p("%s_image:", name)
	for y := 0; y < h; y++ {
		p("\tVPXORD Z%d, Z%d, Z%d", y, y, y)
	}
	p("\tMOVQ DI, R11")
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			for oy := 0; oy < oh; oy++ {
				p("\tVMOVUPS.Z %d(R11), K%d, Z30", 4*(ow*oy-kx), 1+kx)
				p("\tVADDPS Z30, Z%d, Z%d", oy+ky, oy+ky)
			}
			if ky < k-1 || kx < k-1 {
				p("\tADDQ R8, R11")
			}
		}
	}
	for y := 0; y < h; y++ {
		p("\tVMOVUPS Z%d, K7, %d(SI)", y, 4*wd*y)
	}
	p("\tADDQ R9, DI")
	p("\tADDQ R10, SI")
	p("\tDECQ CX")
	p("\tJNE %s_image", name)
	p("\tVZEROUPPER")
	p("\tRET")
}
