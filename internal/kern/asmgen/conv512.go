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
	im2colGroups(w, g)
	col2imGroups(w, g)
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

// convLoopEnd closes a kernel's loop over images or groups: it advances
// DI (col) by di and SI (in) by si, counts CX down to label while it is
// not zero, and returns.
func convLoopEnd(p func(string, ...any), di, si, label string) {
	p("\tADDQ %s, DI", di)
	p("\tADDQ %s, SI", si)
	p("\tDECQ CX")
	p("\tJNE %s", label)
	p("\tVZEROUPPER")
	p("\tRET")
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
	convLoopEnd(p, "R9", "R10", name+"_image")
}

// col2im512 writes the Col2im kernel of single images (a shard's images
// after its whole groups of col2imGroups): col2imImage per image, each
// image's part of a patch row loaded from its first float.
func col2im512(w *bytes.Buffer, h, wd, k int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	oh, ow := h-k+1, wd-k+1
	name := fmt.Sprintf("col2im512h%dw%dk%d", h, wd, k)
	p("")
	p("// func %s(in, col *float32, ldcol, colImg, inImg, count int)", name)
	convPrologue(p, name, false)
	col2imMasks(p, wd, k, ow)
	p("%s_image:", name)
	col2imImage(p, h, wd, k, 0, oh*ow, 0)
	convLoopEnd(p, "R9", "R10", name+"_image")
}

// col2imMasks sets K(1+kx) to the lanes kx..kx+OW-1 and K7 to W lanes.
func col2imMasks(p func(string, ...any), wd, k, ow int) {
	for kx := 0; kx < k; kx++ {
		p("\tMOVL $%d, AX", (1<<ow-1)<<kx)
		p("\tKMOVW AX, K%d", 1+kx)
	}
	p("\tMOVL $%d, AX", 1<<wd-1)
	p("\tKMOVW AX, K7")
}

// col2imImage writes the Col2im of one image whose OH·OW floats of each
// patch row start o floats after DI (the rows R8 bytes apart; the kernel
// may read floats 0..lim-1 after DI of each row) and stores its plane at
// SI + out bytes. Z0..Z(H-1) hold the plane's rows, from +0. For each row
// (ky, kx) of the im2col matrix in increasing order, the vectors of 16
// floats at multiples of 16 after DI that hold the image's floats are
// loaded into Z(H)..; output row oy's OW floats, which start at some lane
// of one of them, are moved to lanes kx..kx+OW-1 by a VALIGND (of two
// vectors when they span both; none when they are already there) and added
// to plane row oy+ky under the mask K(1+kx) of those lanes, so the row's
// other lanes keep their values. A segment that reaches into a vector
// ending past lim is loaded directly instead (a masked load from kx floats
// before it, as the kernel did for every segment before), so nothing past
// lim is read. Each pixel gets one addition per patch row that reaches it,
// in increasing row order: Col2im's order. Then the plane rows are stored
// under the mask K7 of W lanes. Whole-vector loads and shuffles instead of
// one masked load per segment, most of them crossing a cache line, measured
// 17-18 % faster on conv2's shards with loads from each image's first
// float, 29-33 % with the aligned loads of col2imGroups (docs/speed.md).
func col2imImage(p func(string, ...any), h, wd, k, o, lim, out int) {
	oh, ow := h-k+1, wd-k+1
	f := o / 16                  // first vector of the image's part
	nv := (o+oh*ow-1)/16 - f + 1 // vectors of the image's part
	src := h                     // Z(src+j) holds vector f+j
	const dreg = 30              // Z30: a directly loaded segment
	ntmp := dreg - src - nv
	if ntmp < 2 {
		panic("asmgen: col2im plane and row do not fit the registers")
	}
	// direct reports whether output row oy's segment is loaded directly:
	// it reaches into a vector that ends past lim.
	direct := func(oy int) bool {
		return 16*((o+ow*oy+ow-1)/16+1) > lim
	}
	for y := 0; y < h; y++ {
		p("\tVPXORD Z%d, Z%d, Z%d", y, y, y)
	}
	p("\tMOVQ DI, R11")
	tmp := 0
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			need := make([]bool, nv)
			for oy := 0; oy < oh; oy++ {
				if q := o + ow*oy; !direct(oy) {
					need[q/16-f] = true
					if q%16 > kx && q%16+ow > 16 {
						need[q/16-f+1] = true
					}
				}
			}
			for j := 0; j < nv; j++ {
				if need[j] {
					p("\tVMOVUPS %d(R11), Z%d", 64*(f+j), src+j)
				}
			}
			for oy := 0; oy < oh; oy++ {
				q := o + ow*oy
				j, s := q/16-f, q%16
				if direct(oy) {
					p("\tVMOVUPS.Z %d(R11), K%d, Z%d", 4*(q-kx), 1+kx, dreg)
					p("\tVADDPS Z%d, Z%d, Z%d", dreg, oy+ky, oy+ky)
					continue
				}
				a := src + j
				if s != kx {
					// lane kx+l of the result is float q+l of the row
					t := src + nv + tmp%ntmp
					tmp++
					switch {
					case s > kx && s+ow > 16:
						p("\tVALIGND $%d, Z%d, Z%d, Z%d", s-kx, src+j, src+j+1, t)
					case s > kx:
						p("\tVALIGND $%d, Z%d, Z%d, Z%d", s-kx, src+j, src+j, t)
					default: // s < kx: the segment ends inside vector j
						p("\tVALIGND $%d, Z%d, Z%d, Z%d", 16+s-kx, src+j, src+j, t)
					}
					a = t
				}
				p("\tVADDPS Z%d, Z%d, K%d, Z%d", a, oy+ky, 1+kx, oy+ky)
			}
			if ky < k-1 || kx < k-1 {
				p("\tADDQ R8, R11")
			}
		}
	}
	for y := 0; y < h; y++ {
		p("\tVMOVUPS Z%d, K7, %d(SI)", y, out+4*wd*y)
	}
}

// col2imGroups writes, for each shape of convShapes, the grouped Col2im
// kernel col2im512g<G>h<H>w<W>k<K> and the Go function that dispatches on
// the shape: the images of a group of g (whose g·OH·OW floats of a patch
// row are whole vectors, as in im2colGroups) are done one after the other
// as by col2im512, but each image's vectors are loaded at multiples of 16
// floats from the group's start, so they are aligned when the matrix and
// its rows are, and may hold floats of the neighbouring images of the
// group (never outside it). Same additions in the same order.
func col2imGroups(w, g *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	var made []groupKernel
	for _, s := range convShapes {
		h, wd, k := s[0], s[1], s[2]
		oh, ow := h-k+1, wd-k+1
		gi := 16 / gcd(16, oh*ow)
		name := fmt.Sprintf("col2im512g%dh%dw%dk%d", gi, h, wd, k)
		p("")
		p("// func %s(in, col *float32, ldcol, count int)", name)
		p("TEXT ·%s(SB), NOSPLIT, $0-32", name)
		p("\tMOVQ in+0(FP), SI")
		p("\tMOVQ col+8(FP), DI")
		p("\tMOVQ ldcol+16(FP), R8")
		p("\tMOVQ count+24(FP), CX")
		col2imMasks(p, wd, k, ow)
		p("%s_group:", name)
		for m := range gi {
			col2imImage(p, h, wd, k, m*oh*ow, gi*oh*ow, 4*m*h*wd)
		}
		convLoopEnd(p, fmt.Sprintf("$%d", 4*gi*oh*ow), fmt.Sprintf("$%d", 4*gi*h*wd), name+"_group")
		fmt.Fprintf(g, "\n// %s overwrites count groups of %d %d×%d planes (one after\n", name, gi, h, wd)
		fmt.Fprintf(g, "// the other at in) with the sums of Col2im of the rows of the im2col\n")
		fmt.Fprintf(g, "// matrix at col + r*ldcol bytes, group j's columns at %d*j bytes into them.\n", 4*gi*oh*ow)
		fmt.Fprintf(g, "//\n//go:noescape\nfunc %s(in, col *float32, ldcol, count int)\n", name)
		made = append(made, groupKernel{h, wd, k, gi})
	}
	groupDispatch(g, "col2im", "Col2im", "in, col *float32, ldcol, count int", made, func(name string, m groupKernel) string {
		return fmt.Sprintf("in, col, ldcol, count/%d", m.g)
	})
}

// groupSeg is one image's part of a vector of the grouped Im2col kernel:
// lanes lo..hi-1 of the vector come from one image, lane q from the float
// at ws+idx[q] of the group's planes (unshifted by the window position).
type groupSeg struct {
	lo, hi int
	ws     int   // first float of the window the lanes are permuted from
	wide   bool  // a 32-float window (VPERMT2PS), else 16 (VPERMPS)
	idx    []int // per lane of lo..hi-1: offset in the window
	mask   int   // mask register of the lanes (0: the first segment, all lanes)
}

// groupPlan splits the row of a group of g images (g·OH·OW floats, nv
// vectors of 16) into segments; each image's part of a vector spans at
// most 32 floats of its plane. Windows start at their first float unless
// that would read past the group's last plane at the largest window shift
// (K-1)·W+K-1, then they end at their last float: the kernel never reads
// outside the group's planes.
func groupPlan(h, wd, k int) (g, nv int, segs [][]groupSeg) {
	oh, ow := h-k+1, wd-k+1
	g = 16 / gcd(16, oh*ow)
	nv = g * oh * ow / 16
	maxShift := (k-1)*wd + k - 1
	end := g * h * wd
	for v := range nv {
		var vs []groupSeg
		for q := 0; q < 16; {
			img := (16*v + q) / (oh * ow)
			s := groupSeg{lo: q}
			var offs []int
			for ; q < 16 && (16*v+q)/(oh*ow) == img; q++ {
				p := (16*v + q) % (oh * ow)
				offs = append(offs, img*h*wd+p/ow*wd+p%ow)
			}
			s.hi = q
			first, last := offs[0], offs[len(offs)-1]
			n := 16
			if last-first+1 > 16 {
				n, s.wide = 32, true
			}
			if last-first+1 > n {
				panic("asmgen: grouped im2col segment wider than 32 floats")
			}
			s.ws = first
			if first+n-1+maxShift >= end {
				s.ws = last - n + 1
				if s.ws < 0 {
					panic("asmgen: grouped im2col window outside the group")
				}
			}
			for _, o := range offs {
				s.idx = append(s.idx, o-s.ws)
			}
			vs = append(vs, s)
		}
		segs = append(segs, vs)
	}
	return g, nv, segs
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// im2colGroups writes, for each shape of convShapes, the grouped Im2col
// kernel im2col512g<G>h<H>w<W>k<K>, its table of permutation indices and
// the Go function that dispatches on the shape.
//
// A group is g images whose g·OH·OW columns of a row of the im2col matrix
// are whole vectors of 16 (g = 4 for conv2's 10×10 outputs: 25 vectors),
// so each is written by one full store (aligned when the matrix is),
// instead of OH masked stores of OW floats per image, half of which cross
// a cache line. Each image's part of a vector is a permutation of a window
// of 16 or 32 floats of its plane (VPERMPS, VPERMT2PS from memory), shifted
// by ky·W+kx for row (ky, kx); a vector that spans two images merges the
// second image's lanes under a mask. The index vectors (one per segment,
// at most 28) stay in Z0..; Z28..Z31 are the vectors being built. Register
// use: DI the group's first column, SI its planes, R11 the current row of
// col, R12 the planes shifted to the row's window position, BX, DX the ky
// and kx loops. Each store is followed by a prefetch of the same vector in
// the next row (the row is in L2 when the matrix is larger than L1; measured
// 4-6 % faster on conv2's shard of 16 images). A copy, so Im2col's bits.
func im2colGroups(w, g *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	var made []groupKernel
	for _, s := range convShapes {
		h, wd, k := s[0], s[1], s[2]
		gi, nv, segs := groupPlan(h, wd, k)
		name := fmt.Sprintf("im2col512g%dh%dw%dk%d", gi, h, wd, k)
		nseg := 0
		masks := map[int]int{} // lane mask -> K register
		for _, vs := range segs {
			nseg += len(vs)
			for i := 1; i < len(vs); i++ {
				m := (1<<vs[i].hi - 1) &^ (1<<vs[i].lo - 1)
				if _, ok := masks[m]; !ok {
					masks[m] = 1 + len(masks)
				}
				vs[i].mask = masks[m]
			}
		}
		if nseg > 28 || len(masks) > 7 {
			panic("asmgen: grouped im2col needs too many registers")
		}
		p("")
		p("// func %s(col, in *float32, ldcol, count int, idx *int32)", name)
		p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
		p("\tMOVQ col+0(FP), DI")
		p("\tMOVQ in+8(FP), SI")
		p("\tMOVQ ldcol+16(FP), R8")
		p("\tMOVQ count+24(FP), CX")
		p("\tMOVQ idx+32(FP), AX")
		for i := range nseg {
			p("\tVMOVDQU32 %d(AX), Z%d", 64*i, i)
		}
		for kr := 1; kr <= len(masks); kr++ {
			for m, r := range masks {
				if r == kr {
					p("\tMOVL $%d, AX", m)
					p("\tKMOVW AX, K%d", kr)
				}
			}
		}
		p("%s_group:", name)
		p("\tMOVQ DI, R11")
		p("\tMOVQ SI, R12")
		p("\tMOVQ $%d, BX", k)
		p("%s_ky:", name)
		p("\tMOVQ $%d, DX", k)
		p("%s_kx:", name)
		reg := 0
		for v, vs := range segs {
			dst := 28 + v%2
			tmp := 30 + v%2
			for i, s := range vs {
				switch {
				case i == 0 && s.wide:
					p("\tVMOVUPS %d(R12), Z%d", 4*s.ws, dst)
					p("\tVPERMT2PS %d(R12), Z%d, Z%d", 4*(s.ws+16), reg, dst)
				case i == 0:
					p("\tVPERMPS %d(R12), Z%d, Z%d", 4*s.ws, reg, dst)
				case s.wide:
					p("\tVMOVUPS %d(R12), Z%d", 4*s.ws, tmp)
					p("\tVPERMT2PS %d(R12), Z%d, Z%d", 4*(s.ws+16), reg, tmp)
					p("\tVMOVAPS Z%d, K%d, Z%d", tmp, s.mask, dst)
				default:
					p("\tVPERMPS %d(R12), Z%d, K%d, Z%d", 4*s.ws, reg, s.mask, dst)
				}
				reg++
			}
			p("\tVMOVUPS Z%d, %d(R11)", dst, 64*v)
			p("\tPREFETCHT0 %d(R11)(R8*1)", 64*v)
		}
		p("\tADDQ R8, R11")
		p("\tADDQ $4, R12")
		p("\tDECQ DX")
		p("\tJNE %s_kx", name)
		p("\tADDQ $%d, R12", 4*(wd-k))
		p("\tDECQ BX")
		p("\tJNE %s_ky", name)
		convLoopEnd(p, fmt.Sprintf("$%d", 64*nv), fmt.Sprintf("$%d", 4*gi*h*wd), name+"_group")

		fmt.Fprintf(g, "\n// %s writes the rows of the im2col matrix for count groups of %d\n", name, gi)
		fmt.Fprintf(g, "// images of one channel (%d×%d planes one after the other at in, row r of\n", h, wd)
		fmt.Fprintf(g, "// the matrix at col + r*ldcol bytes, group j's columns at %d*j bytes into\n", 64*nv)
		fmt.Fprintf(g, "// it), permuting windows of the planes by the table idx.\n")
		fmt.Fprintf(g, "//\n//go:noescape\nfunc %s(col, in *float32, ldcol, count int, idx *int32)\n", name)
		fmt.Fprintf(g, "\n// %sIdx holds %s's permutation indices, one\n// vector of 16 per segment.\n", name, name)
		fmt.Fprintf(g, "var %sIdx = [%d]int32{\n", name, 16*nseg)
		for _, vs := range segs {
			for _, s := range vs {
				var lanes [16]int
				for q := range 16 {
					if q >= s.lo && q < s.hi {
						lanes[q] = s.idx[q-s.lo]
					}
				}
				for _, x := range lanes {
					fmt.Fprintf(g, "%d, ", x)
				}
				fmt.Fprintf(g, "\n")
			}
		}
		fmt.Fprintf(g, "}\n")
		made = append(made, groupKernel{h, wd, k, gi})
	}
	groupDispatch(g, "im2col", "Im2col", "col, in *float32, ldcol, count int", made, func(name string, m groupKernel) string {
		return fmt.Sprintf("col, in, ldcol, count/%d, &%sIdx[0]", m.g, name)
	})
}

// groupKernel is a grouped Im2col or Col2im kernel: an h×wd input, a k×k
// window, g images per group.
type groupKernel struct{ h, wd, k, g int }

// groupDispatch writes the Go function <op>Groups512 that runs the grouped
// kernel <op>512g<g>h<h>w<wd>k<k> of made matching an h×w input and k×k
// window on the first whole groups of count images (opName names the
// operation in its comment; params are the function's parameters after h,
// w, k; args gives a kernel call's arguments).
func groupDispatch(g *bytes.Buffer, op, opName, params string, made []groupKernel, args func(name string, m groupKernel) string) {
	fmt.Fprintf(g, "\n// %sGroups512 runs the grouped %s kernel of an h×w input with a\n", op, opName)
	fmt.Fprintf(g, "// k×k window and no padding, if there is one, on the first whole groups\n")
	fmt.Fprintf(g, "// of the count images of one channel, and returns the number of images\n// done (0 if there is no kernel or no whole group).\n")
	fmt.Fprintf(g, "func %sGroups512(h, w, k int, %s) int {\n", op, params)
	fmt.Fprintf(g, "\tswitch {\n")
	for _, m := range made {
		name := fmt.Sprintf("%s512g%dh%dw%dk%d", op, m.g, m.h, m.wd, m.k)
		fmt.Fprintf(g, "\tcase h == %d && w == %d && k == %d && count >= %d:\n", m.h, m.wd, m.k, m.g)
		fmt.Fprintf(g, "\t\t%s(%s)\n\t\treturn count / %d * %d\n", name, args(name, m), m.g, m.g)
	}
	fmt.Fprintf(g, "\t}\n\treturn 0\n}\n")
}
