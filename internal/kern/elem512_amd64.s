//go:build !purego

#include "textflag.h"

// Element-wise kernels of the avx512 path, written by hand like
// elem_amd64.s; they compute exactly what their AVX2 versions compute.

// pool16Even holds the int32 lanes 0, 2, ..., 30: the indexes of the even
// elements of a pair of ZMM registers (VPERMT2PS), and the column of each
// window of a group of 16 relative to the group's first input column.
DATA pool16Even<>+0(SB)/4, $0
DATA pool16Even<>+4(SB)/4, $2
DATA pool16Even<>+8(SB)/4, $4
DATA pool16Even<>+12(SB)/4, $6
DATA pool16Even<>+16(SB)/4, $8
DATA pool16Even<>+20(SB)/4, $10
DATA pool16Even<>+24(SB)/4, $12
DATA pool16Even<>+28(SB)/4, $14
DATA pool16Even<>+32(SB)/4, $16
DATA pool16Even<>+36(SB)/4, $18
DATA pool16Even<>+40(SB)/4, $20
DATA pool16Even<>+44(SB)/4, $22
DATA pool16Even<>+48(SB)/4, $24
DATA pool16Even<>+52(SB)/4, $26
DATA pool16Even<>+56(SB)/4, $28
DATA pool16Even<>+60(SB)/4, $30
GLOBL pool16Even<>(SB), RODATA|NOPTR, $64

// func maxPool2AVX512(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32, n, sstride, dstride int)
//
// n >= 1 planes, plane q's inputs at src + 4q·sstride bytes, its outputs
// and arg-maxes at dst and arg + 4q·dstride bytes, its base base+q·sstride.
// maxPool2AVX2x8 with ZMM registers: 16 windows per group, the last group
// of a row masked (K1 for its outputs, K6/K7 for the 2·16 input columns of
// each row), so rows of any width take ceil(pw/16) groups; rows of at most
// 16 outputs (one group each) set the masks once. BX is scratch (SHLXL:
// BMI2, which every AVX-512 processor has and hasAVX512 checks).
//   Z0..Z3 = window elements a0..a3 (even/odd columns of rows 2py, 2py+1)
//   Z4 = running maximum m, Z5 = offset of the arg-max inside the window
//   step with x: Z5 = (x > m) ? K : Z5 (K2); m = VRANGEPS $5 (m, x): the
//   larger value with the sign of the comparison's result, which is Go's
//   max(m, x) for every pair without a NaN, max(±0, ∓0) = +0 included
//   (Intel SDM, VRANGEPS: imm8 bits 1:0 = 01 max, bits 3:2 = 01 sign from
//   the compare result; checked against Go's max on every pair of special
//   values and millions of random bit patterns); a NaN is patched after
//   Z20 = 0, 2, ..., 30; Z21 = Z20 + 1; Z23..Z25 = the window offsets 1,
//   ld, ld+1; Z26 = bias; Z27 = 0.
TEXT ·maxPool2AVX512(SB), NOSPLIT, $0-96
	MOVQ dst+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ pw+32(FP), R9
	MOVQ ld+40(FP), R10
	VBROADCASTSS bias+48(FP), Z26
	MOVL base+64(FP), R12
	VPXORD Z27, Z27, Z27
	LEAQ pool16Even<>(SB), AX
	VMOVDQU32 (AX), Z20
	MOVL $1, AX
	VPBROADCASTD AX, Z23
	VPADDD Z23, Z20, Z21
	VPBROADCASTD R10, Z24
	VPADDD Z23, Z24, Z25
	// Rows of at most 16 outputs (conv1's 14): pool1_row below.
	CMPQ R9, $16
	JLE pool1
pool16_plane:
	// CX = py, the row of outputs.
	XORQ CX, CX
pool16_row:
	// DX = 2*py*ld. (R14 and R15 are left alone: g and the GOT pointer.)
	MOVQ CX, DX
	IMULQ R10, DX
	SHLQ $1, DX
	XORQ AX, AX
	// Rows of at most 16 outputs: one group each, masks set once.
	CMPQ R9, $16
	JGT pool16_group
	TESTQ CX, CX
	JNE pool16_load
pool16_group:
	// R11 = outputs in this group (<= 16); K1, K6, K7 their masks.
	MOVQ R9, R11
	SUBQ AX, R11
	CMPQ R11, $16
	JLE pool16_masks
	MOVQ $16, R11
pool16_masks:
	MOVQ R11, R13
	MOVL $1, BX
	SHLXL R13, BX, BX
	DECL BX
	KMOVW BX, K1
	SHLQ $1, R13
	CMPQ R13, $16
	JLE pool16_lowmask
	SUBQ $16, R13
	MOVL $1, BX
	SHLXL R13, BX, BX
	DECL BX
	KMOVW BX, K7
	MOVL $0xffff, BX
	KMOVW BX, K6
	JMP pool16_load
pool16_lowmask:
	MOVL $1, BX
	SHLXL R13, BX, BX
	DECL BX
	KMOVW BX, K6
	KXORW K7, K7, K7
pool16_load:
	// Inputs at columns 2px..2px+31 of rows 2py and 2py+1.
	LEAQ (DX)(AX*2), R13
	VMOVUPS.Z (SI)(R13*4), K6, Z6
	VMOVUPS.Z 64(SI)(R13*4), K7, Z7
	ADDQ R10, R13
	VMOVUPS.Z (SI)(R13*4), K6, Z8
	VMOVUPS.Z 64(SI)(R13*4), K7, Z9
	VMOVAPS Z6, Z0
	VPERMT2PS Z7, Z20, Z0
	VMOVAPS Z6, Z1
	VPERMT2PS Z7, Z21, Z1
	VMOVAPS Z8, Z2
	VPERMT2PS Z9, Z20, Z2
	VMOVAPS Z8, Z3
	VPERMT2PS Z9, Z21, Z3
	VMOVAPS Z0, Z4
	VPXORD Z5, Z5, Z5
	// a1
	VCMPPS $0x1e, Z4, Z1, K2
	VMOVDQA32 Z23, K2, Z5
	VRANGEPS $5, Z1, Z4, Z4
	// a2
	VCMPPS $0x1e, Z4, Z2, K2
	VMOVDQA32 Z24, K2, Z5
	VRANGEPS $5, Z2, Z4, Z4
	// a3
	VCMPPS $0x1e, Z4, Z3, K2
	VMOVDQA32 Z25, K2, Z5
	VRANGEPS $5, Z3, Z4, Z4
	// A NaN anywhere in the window makes the maximum NaN: a0+a1 where a0
	// or a1 is one, a2+a3 where a2 or a3 is.
	VCMPPS $3, Z1, Z0, K3
	VCMPPS $3, Z3, Z2, K4
	VADDPS Z1, Z0, K3, Z4
	VADDPS Z3, Z2, K4, Z4
	// bias, then ReLU as Go's max(v, 0): VMAXPS with v as the second
	// (Intel) source gives (0 > v) ? 0 : v, which keeps a NaN and maps
	// -0 to itself; adding +0 then turns -0 into +0 and changes nothing
	// else.
	VADDPS Z26, Z4, Z4
	CMPQ relu+56(FP), $0
	JEQ pool16_store
	VMAXPS Z4, Z27, Z4
	VADDPS Z27, Z4, Z4
pool16_store:
	// Output index o = py*pw + px.
	MOVQ CX, R13
	IMULQ R9, R13
	ADDQ AX, R13
	VMOVUPS Z4, K1, (DI)(R13*4)
	// arg = base + 2py*ld + 2px + {0,2,...,30} + window offset.
	LEAQ (DX)(AX*2), R11
	ADDL R12, R11
	VPBROADCASTD R11, Z6
	VPADDD Z20, Z6, Z6
	VPADDD Z5, Z6, Z6
	VMOVDQU32 Z6, K1, (R8)(R13*4)
	ADDQ $16, AX
	CMPQ AX, R9
	JLT pool16_group
	INCQ CX
	CMPQ CX, ph+24(FP)
	JLT pool16_row
	// The next plane (n is counted down in its argument slot).
	MOVQ sstride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	ADDL AX, R12
	MOVQ dstride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	LEAQ (R8)(AX*4), R8
	DECQ n+72(FP)
	JNE pool16_plane
	VZEROUPPER
	RET

// Rows of one group each (pw <= 16): the loop above with the masks set
// once per call, the row's pointers advanced instead of recomputed (AX:
// its first input; BX, R11: its outputs and arg-maxes) and the arg of
// the row's windows' first elements in Z22, advanced by 2ld (Z30) per row.
pool1:
	// K1 = pw outputs; K6, K7 = their 2pw input columns.
	MOVL $1, BX
	SHLXL R9, BX, BX
	DECL BX
	KMOVW BX, K1
	LEAQ (R9)(R9*1), R11
	CMPQ R11, $16
	JLE pool1_lowmask
	SUBQ $16, R11
	MOVL $1, BX
	SHLXL R11, BX, BX
	DECL BX
	KMOVW BX, K7
	MOVL $0xffff, BX
	KMOVW BX, K6
	JMP pool1_masks_done
pool1_lowmask:
	MOVL $1, BX
	SHLXL R11, BX, BX
	DECL BX
	KMOVW BX, K6
	KXORW K7, K7, K7
pool1_masks_done:
	LEAQ (R10)(R10*1), AX
	VPBROADCASTD AX, Z30
pool1_plane:
	VPBROADCASTD R12, Z22
	VPADDD Z20, Z22, Z22
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R8, R11
	MOVQ ph+24(FP), CX
pool1_row:
	VMOVUPS.Z (AX), K6, Z6
	VMOVUPS.Z 64(AX), K7, Z7
	VMOVUPS.Z (AX)(R10*4), K6, Z8
	VMOVUPS.Z 64(AX)(R10*4), K7, Z9
	VMOVAPS Z6, Z0
	VPERMT2PS Z7, Z20, Z0
	VMOVAPS Z6, Z1
	VPERMT2PS Z7, Z21, Z1
	VMOVAPS Z8, Z2
	VPERMT2PS Z9, Z20, Z2
	VMOVAPS Z8, Z3
	VPERMT2PS Z9, Z21, Z3
	VMOVAPS Z0, Z4
	VPXORD Z5, Z5, Z5
	VCMPPS $0x1e, Z4, Z1, K2
	VMOVDQA32 Z23, K2, Z5
	VRANGEPS $5, Z1, Z4, Z4
	VCMPPS $0x1e, Z4, Z2, K2
	VMOVDQA32 Z24, K2, Z5
	VRANGEPS $5, Z2, Z4, Z4
	VCMPPS $0x1e, Z4, Z3, K2
	VMOVDQA32 Z25, K2, Z5
	VRANGEPS $5, Z3, Z4, Z4
	VCMPPS $3, Z1, Z0, K3
	VCMPPS $3, Z3, Z2, K4
	VADDPS Z1, Z0, K3, Z4
	VADDPS Z3, Z2, K4, Z4
	VADDPS Z26, Z4, Z4
	CMPQ relu+56(FP), $0
	JEQ pool1_store
	VMAXPS Z4, Z27, Z4
	VADDPS Z27, Z4, Z4
pool1_store:
	VMOVUPS Z4, K1, (BX)
	VPADDD Z22, Z5, Z6
	VMOVDQU32 Z6, K1, (R11)
	VPADDD Z30, Z22, Z22
	LEAQ (AX)(R10*8), AX
	LEAQ (BX)(R9*4), BX
	LEAQ (R11)(R9*4), R11
	DECQ CX
	JNE pool1_row
	MOVQ sstride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	ADDL AX, R12
	MOVQ dstride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	LEAQ (R8)(AX*4), R8
	DECQ n+72(FP)
	JNE pool1_plane
	VZEROUPPER
	RET

// func maxPool2AVX512x2(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32, n, sstride, dstride int, tab *int32)
//
// maxPool2AVX512 for narrow planes, ld + pw <= 16 (LeNet-5's conv2: 5
// outputs per row, ld 10): two rows of outputs per group of 16 lanes
// instead of one, lane i < pw for output (py, i) and lane pw+i for
// (py+1, i), so a 10×10 plane takes 3 groups instead of 5. The group's
// windows start at offsets tab[i] from input row 2py (2i, then 2ld+2i):
// all of their first rows lie in the 2ld+2pw <= 32 floats from row 2py on
// (Z6, Z7) and their second rows in the 32 from row 2py+1 on (Z8, Z9),
// so the same two-register permutes as maxPool2AVX512's pick a0..a3, and
// the maximum, NaN patch, bias, ReLU and arg-max are computed as there.
// The outputs of rows py and py+1 are contiguous (2pw floats at py·pw).
// An odd last row is a group of its own with narrower masks (K1: pw
// outputs, K6: its 2pw input columns, K7 none), so that no float past the
// plane is read.
//   Z20 = tab, Z21 = tab + 1, Z23..Z25 = 1, ld, ld+1, Z26 = bias, Z27 = 0.
TEXT ·maxPool2AVX512x2(SB), NOSPLIT, $0-104
	MOVQ dst+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ pw+32(FP), R9
	MOVQ ld+40(FP), R10
	VBROADCASTSS bias+48(FP), Z26
	MOVL base+64(FP), R12
	VPXORD Z27, Z27, Z27
	MOVQ tab+96(FP), AX
	VMOVDQU32 (AX), Z20
	MOVL $1, AX
	VPBROADCASTD AX, Z23
	VPADDD Z23, Z20, Z21
	VPBROADCASTD R10, Z24
	VPADDD Z23, Z24, Z25
pool2r_plane:
	// Two-row masks: K1 = 2pw outputs, K6/K7 = 2ld+2pw input floats.
	LEAQ (R9)(R9*1), R11
	MOVL $1, BX
	SHLXL R11, BX, BX
	DECL BX
	KMOVW BX, K1
	LEAQ (R11)(R10*2), R11
	CMPQ R11, $16
	JLE pool2r_lowmask
	SUBQ $16, R11
	MOVL $1, BX
	SHLXL R11, BX, BX
	DECL BX
	KMOVW BX, K7
	MOVL $0xffff, BX
	KMOVW BX, K6
	JMP pool2r_rows
pool2r_lowmask:
	MOVL $1, BX
	SHLXL R11, BX, BX
	DECL BX
	KMOVW BX, K6
	KXORW K7, K7, K7
pool2r_rows:
	// CX = py, the first of the group's rows of outputs.
	XORQ CX, CX
pool2r_group:
	MOVQ ph+24(FP), AX
	SUBQ CX, AX
	JEQ pool2r_next_plane
	CMPQ AX, $1
	JNE pool2r_load
	// The odd last row alone: K1 = pw outputs, K6 = 2pw floats, K7 none.
	MOVL $1, BX
	SHLXL R9, BX, BX
	DECL BX
	KMOVW BX, K1
	LEAQ (R9)(R9*1), R11
	MOVL $1, BX
	SHLXL R11, BX, BX
	DECL BX
	KMOVW BX, K6
	KXORW K7, K7, K7
pool2r_load:
	// DX = 2*py*ld; inputs from rows 2py and 2py+1 on.
	MOVQ CX, DX
	IMULQ R10, DX
	SHLQ $1, DX
	VMOVUPS.Z (SI)(DX*4), K6, Z6
	VMOVUPS.Z 64(SI)(DX*4), K7, Z7
	LEAQ (DX)(R10*1), R13
	VMOVUPS.Z (SI)(R13*4), K6, Z8
	VMOVUPS.Z 64(SI)(R13*4), K7, Z9
	VMOVAPS Z6, Z0
	VPERMT2PS Z7, Z20, Z0
	VMOVAPS Z6, Z1
	VPERMT2PS Z7, Z21, Z1
	VMOVAPS Z8, Z2
	VPERMT2PS Z9, Z20, Z2
	VMOVAPS Z8, Z3
	VPERMT2PS Z9, Z21, Z3
	VMOVAPS Z0, Z4
	VPXORD Z5, Z5, Z5
	// a1
	VCMPPS $0x1e, Z4, Z1, K2
	VMOVDQA32 Z23, K2, Z5
	VRANGEPS $5, Z1, Z4, Z4
	// a2
	VCMPPS $0x1e, Z4, Z2, K2
	VMOVDQA32 Z24, K2, Z5
	VRANGEPS $5, Z2, Z4, Z4
	// a3
	VCMPPS $0x1e, Z4, Z3, K2
	VMOVDQA32 Z25, K2, Z5
	VRANGEPS $5, Z3, Z4, Z4
	// NaN patch, bias and ReLU as in maxPool2AVX512.
	VCMPPS $3, Z1, Z0, K3
	VCMPPS $3, Z3, Z2, K4
	VADDPS Z1, Z0, K3, Z4
	VADDPS Z3, Z2, K4, Z4
	VADDPS Z26, Z4, Z4
	CMPQ relu+56(FP), $0
	JEQ pool2r_store
	VMAXPS Z4, Z27, Z4
	VADDPS Z27, Z4, Z4
pool2r_store:
	// Outputs from py*pw on; arg = base + 2py*ld + tab + window offset.
	MOVQ CX, R13
	IMULQ R9, R13
	VMOVUPS Z4, K1, (DI)(R13*4)
	LEAL (R12)(DX*1), R11
	VPBROADCASTD R11, Z6
	VPADDD Z20, Z6, Z6
	VPADDD Z5, Z6, Z6
	VMOVDQU32 Z6, K1, (R8)(R13*4)
	ADDQ $2, CX
	CMPQ CX, ph+24(FP)
	JLT pool2r_group
pool2r_next_plane:
	MOVQ sstride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	ADDL AX, R12
	MOVQ dstride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	LEAQ (R8)(AX*4), R8
	DECQ n+72(FP)
	JNE pool2r_plane
	VZEROUPPER
	RET

// unpoolLo and unpoolHi interleave two ZMM registers a and b into
// a0 b0 a1 b1 ... a7 b7 (lo) and a8 b8 ... a15 b15 (hi) with VPERMT2PS.
DATA unpoolLo<>+0(SB)/4, $0
DATA unpoolLo<>+4(SB)/4, $16
DATA unpoolLo<>+8(SB)/4, $1
DATA unpoolLo<>+12(SB)/4, $17
DATA unpoolLo<>+16(SB)/4, $2
DATA unpoolLo<>+20(SB)/4, $18
DATA unpoolLo<>+24(SB)/4, $3
DATA unpoolLo<>+28(SB)/4, $19
DATA unpoolLo<>+32(SB)/4, $4
DATA unpoolLo<>+36(SB)/4, $20
DATA unpoolLo<>+40(SB)/4, $5
DATA unpoolLo<>+44(SB)/4, $21
DATA unpoolLo<>+48(SB)/4, $6
DATA unpoolLo<>+52(SB)/4, $22
DATA unpoolLo<>+56(SB)/4, $7
DATA unpoolLo<>+60(SB)/4, $23
GLOBL unpoolLo<>(SB), RODATA|NOPTR, $64
DATA unpoolHi<>+0(SB)/4, $8
DATA unpoolHi<>+4(SB)/4, $24
DATA unpoolHi<>+8(SB)/4, $9
DATA unpoolHi<>+12(SB)/4, $25
DATA unpoolHi<>+16(SB)/4, $10
DATA unpoolHi<>+20(SB)/4, $26
DATA unpoolHi<>+24(SB)/4, $11
DATA unpoolHi<>+28(SB)/4, $27
DATA unpoolHi<>+32(SB)/4, $12
DATA unpoolHi<>+36(SB)/4, $28
DATA unpoolHi<>+40(SB)/4, $13
DATA unpoolHi<>+44(SB)/4, $29
DATA unpoolHi<>+48(SB)/4, $14
DATA unpoolHi<>+52(SB)/4, $30
DATA unpoolHi<>+56(SB)/4, $15
DATA unpoolHi<>+60(SB)/4, $31
GLOBL unpoolHi<>(SB), RODATA|NOPTR, $64

// The unpooling kernel's sums: one plane's step over 16, 4 or 1 values of
// d at D (and of y at Y, for the ReLU mask: the R forms) into the float64
// lanes of ACC (the 1-value forms into lane 0 of LO, whose upper 128 bits
// the VEX addition clears). Z27 and X10 are +0.
#define UNPOOL_CVT16(ACC) \
	VCVTPS2PD Y0, Z2; \
	VEXTRACTF32X8 $1, Z0, Y3; \
	VCVTPS2PD Y3, Z3; \
	VEXTRACTF64X4 $1, Z2, Y4; \
	VEXTRACTF64X4 $1, Z3, Y5; \
	VADDPD Y2, ACC, ACC; \
	VADDPD Y4, ACC, ACC; \
	VADDPD Y3, ACC, ACC; \
	VADDPD Y5, ACC, ACC

#define UNPOOL_SUM16R(D, Y, ACC) \
	VMOVUPS D, Z0; \
	VMOVUPS Y, Z1; \
	VCMPPS $0x1e, Z27, Z1, K2; \
	VMOVAPS.Z Z0, K2, Z0; \
	UNPOOL_CVT16(ACC)

#define UNPOOL_SUM16(D, ACC) \
	VMOVUPS D, Z0; \
	UNPOOL_CVT16(ACC)

#define UNPOOL_SUM4R(D, Y, ACC) \
	VMOVUPS D, X0; \
	VMOVUPS Y, X1; \
	VCMPPS $0x1e, X10, X1, X2; \
	VANDPS X2, X0, X0; \
	VCVTPS2PD X0, Y0; \
	VADDPD Y0, ACC, ACC

#define UNPOOL_SUM4(D, ACC) \
	VCVTPS2PD D, Y0; \
	VADDPD Y0, ACC, ACC

#define UNPOOL_SUM1R(D, Y, LO) \
	VMOVSS D, X0; \
	VMOVSS Y, X1; \
	VCMPPS $0x1e, X10, X1, X2; \
	VANDPS X2, X0, X0; \
	VCVTSS2SD X0, X0, X0; \
	VADDSD X0, LO, LO

#define UNPOOL_SUM1(D, LO) \
	VMOVSS D, X0; \
	VCVTSS2SD X0, X0, X0; \
	VADDSD X0, LO, LO

// UNPOOL_TOTAL adds a plane's (s0+s1)+(s2+s3) to X14: LO holds s0 s1, HI
// s2 s3.
#define UNPOOL_TOTAL(LO, HI) \
	VUNPCKHPD LO, LO, X0; \
	VADDSD X0, LO, LO; \
	VUNPCKHPD HI, HI, X0; \
	VADDSD X0, HI, HI; \
	VADDSD HI, LO, LO; \
	VADDSD LO, X14, X14

// func maxUnpool2AVX512(dst, d, y *float32, arg *int32, ph, pw, ld int, relu int, base int32, n, sstride, dstride int, tab *int32) float64
//
// n >= 1 planes: plane q's d, y and arg at 4q·sstride bytes, its dst at
// 4q·dstride bytes and its base base+q·dstride; each plane's windows are
// written as below, then the rest of its dstride floats is set to +0, and
// the result is ((0 + S_0) + S_1) + ... of the planes' sums S_q (0 + S_0 =
// S_0: a sum started from +0 is never -0).
//
// First the sums, four planes at a time (then the last n%4 one at a
// time): each plane's is its own chain of float64 additions, so four
// chains advance side by side instead of one plane's additions waiting
// on each other. A plane's sum runs over its n = ph*pw values as one
// array: four float64 lanes (a Y register), 16 then 4 values per step
// (lane q takes the j ≡ q mod 4 in order), the last n%4 values added to
// lane 0 in order, then (s0+s1)+(s2+s3). The ReLU mask is (y > 0), as
// ReLUMask's.
//
// Then the windows, plane by plane, one row of up to 16 outputs per group
// (mask K1 for the outputs, K6/K7 for the 2·16 columns of each input row
// that the group writes): v (Z0), the position of the maximum in its
// window (Z2 = arg - first index of the window), the four window
// positions a0..a3 = v where the position is 0, 1, ld, ld+1 and +0
// elsewhere (zero-masked moves), interleaved into the two rows of the
// windows (VPERMT2PS) and stored. v is +0 in the lanes past the row's
// last output, so a group writes +0 into the columns past 2pw it covers:
// K6/K7 cover min(32, ld - 2px) columns, and only the columns of both rows
// past the last group's 32 (up to ld-1) are cleared separately (mask K4;
// none for LeNet-5's grids, where ld is 2pw or 32). Rows of at most 16
// outputs (one group each) set K1, K6 and K7 once.
//   Z20 = 0, 2, ..., 30; Z23..Z25 = 1, ld, ld+1; Z27 = 0; Z28, Z29 the
//   interleaving tables.
//
// Narrow planes (tab != nil; ld + pw <= 16, LeNet-5's conv2) take two
// rows of outputs per group instead, as maxPool2AVX512x2: lane i < pw
// for output (py, i), lane pw+i for (py+1, i), tab[0:16] their windows'
// offsets from input row 2py, tab[16:32] and tab[32:48] the tables that
// interleave a0 with a1 (a2 with a3) of the first and of the second row
// of outputs into a row of ld floats (+0 past 2pw: lane 15 of a0, which
// is +0). Each of the four rows 2py..2py+3 is one store of ld floats
// (mask K4); an odd last row of outputs is a group of its own (K1: pw
// outputs) that stores rows 2py and 2py+1 only.
TEXT ·maxUnpool2AVX512(SB), NOSPLIT, $0-112
	VPXORD Z27, Z27, Z27
	VXORPS X10, X10, X10
	// X14 = the sum over the planes so far.
	VXORPD X14, X14, X14
	MOVQ relu+56(FP), R12
	// R10 = n values per plane, BX = sstride in bytes, CX = planes left;
	// R13 and DI = d and y of the group's first plane.
	MOVQ ph+32(FP), R10
	IMULQ pw+40(FP), R10
	MOVQ sstride+80(FP), BX
	SHLQ $2, BX
	MOVQ n+72(FP), CX
	MOVQ d+8(FP), R13
	MOVQ y+16(FP), DI
unpool_sums:
	CMPQ CX, $4
	JLT unpool_sum_one
	// Four planes: d at SI, SI+BX, R8, R8+BX; y at DX, DX+BX, R9, R9+BX;
	// their lanes in Y8, Y9, Y11, Y12. R11 = values left.
	MOVQ R13, SI
	MOVQ DI, DX
	LEAQ (R13)(BX*2), R8
	LEAQ (DI)(BX*2), R9
	MOVQ R10, R11
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
unpool_q16:
	CMPQ R11, $16
	JLT unpool_q4
	TESTQ R12, R12
	JEQ unpool_q16_plain
	UNPOOL_SUM16R((SI), (DX), Y8)
	UNPOOL_SUM16R((SI)(BX*1), (DX)(BX*1), Y9)
	UNPOOL_SUM16R((R8), (R9), Y11)
	UNPOOL_SUM16R((R8)(BX*1), (R9)(BX*1), Y12)
	JMP unpool_q16_next
unpool_q16_plain:
	UNPOOL_SUM16((SI), Y8)
	UNPOOL_SUM16((SI)(BX*1), Y9)
	UNPOOL_SUM16((R8), Y11)
	UNPOOL_SUM16((R8)(BX*1), Y12)
unpool_q16_next:
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, R11
	JMP unpool_q16
unpool_q4:
	CMPQ R11, $4
	JLT unpool_q1_start
	TESTQ R12, R12
	JEQ unpool_q4_plain
	UNPOOL_SUM4R((SI), (DX), Y8)
	UNPOOL_SUM4R((SI)(BX*1), (DX)(BX*1), Y9)
	UNPOOL_SUM4R((R8), (R9), Y11)
	UNPOOL_SUM4R((R8)(BX*1), (R9)(BX*1), Y12)
	JMP unpool_q4_next
unpool_q4_plain:
	UNPOOL_SUM4((SI), Y8)
	UNPOOL_SUM4((SI)(BX*1), Y9)
	UNPOOL_SUM4((R8), Y11)
	UNPOOL_SUM4((R8)(BX*1), Y12)
unpool_q4_next:
	ADDQ $16, SI
	ADDQ $16, DX
	ADDQ $16, R8
	ADDQ $16, R9
	SUBQ $4, R11
	JMP unpool_q4
unpool_q1_start:
	// s2 s3 of the four planes into X3, X5, X6, X7 (the scalar additions
	// below clear the upper halves).
	VEXTRACTF128 $1, Y8, X3
	VEXTRACTF128 $1, Y9, X5
	VEXTRACTF128 $1, Y11, X6
	VEXTRACTF128 $1, Y12, X7
unpool_q1:
	TESTQ R11, R11
	JEQ unpool_q_done
	TESTQ R12, R12
	JEQ unpool_q1_plain
	UNPOOL_SUM1R((SI), (DX), X8)
	UNPOOL_SUM1R((SI)(BX*1), (DX)(BX*1), X9)
	UNPOOL_SUM1R((R8), (R9), X11)
	UNPOOL_SUM1R((R8)(BX*1), (R9)(BX*1), X12)
	JMP unpool_q1_next
unpool_q1_plain:
	UNPOOL_SUM1((SI), X8)
	UNPOOL_SUM1((SI)(BX*1), X9)
	UNPOOL_SUM1((R8), X11)
	UNPOOL_SUM1((R8)(BX*1), X12)
unpool_q1_next:
	ADDQ $4, SI
	ADDQ $4, DX
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ R11
	JMP unpool_q1
unpool_q_done:
	UNPOOL_TOTAL(X8, X3)
	UNPOOL_TOTAL(X9, X5)
	UNPOOL_TOTAL(X11, X6)
	UNPOOL_TOTAL(X12, X7)
	LEAQ (R13)(BX*4), R13
	LEAQ (DI)(BX*4), DI
	SUBQ $4, CX
	JNE unpool_sums
	JMP unpool_windows
unpool_sum_one:
	// One plane (the last n%4): d at SI, y at DX, lanes in Y8.
	MOVQ R13, SI
	MOVQ DI, DX
	MOVQ R10, R11
	VXORPD Y8, Y8, Y8
unpool_o16:
	CMPQ R11, $16
	JLT unpool_o4
	TESTQ R12, R12
	JEQ unpool_o16_plain
	UNPOOL_SUM16R((SI), (DX), Y8)
	JMP unpool_o16_next
unpool_o16_plain:
	UNPOOL_SUM16((SI), Y8)
unpool_o16_next:
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $16, R11
	JMP unpool_o16
unpool_o4:
	CMPQ R11, $4
	JLT unpool_o1_start
	TESTQ R12, R12
	JEQ unpool_o4_plain
	UNPOOL_SUM4R((SI), (DX), Y8)
	JMP unpool_o4_next
unpool_o4_plain:
	UNPOOL_SUM4((SI), Y8)
unpool_o4_next:
	ADDQ $16, SI
	ADDQ $16, DX
	SUBQ $4, R11
	JMP unpool_o4
unpool_o1_start:
	VEXTRACTF128 $1, Y8, X3
unpool_o1:
	TESTQ R11, R11
	JEQ unpool_o_done
	TESTQ R12, R12
	JEQ unpool_o1_plain
	UNPOOL_SUM1R((SI), (DX), X8)
	JMP unpool_o1_next
unpool_o1_plain:
	UNPOOL_SUM1((SI), X8)
unpool_o1_next:
	ADDQ $4, SI
	ADDQ $4, DX
	DECQ R11
	JMP unpool_o1
unpool_o_done:
	UNPOOL_TOTAL(X8, X3)
	ADDQ BX, R13
	ADDQ BX, DI
	DECQ CX
	JNE unpool_sums

unpool_windows:
	MOVQ dst+0(FP), DI
	MOVQ d+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ arg+24(FP), R8
	MOVQ pw+40(FP), R9
	MOVQ ld+48(FP), R10
	MOVQ tab+96(FP), AX
	TESTQ AX, AX
	JNE unpool2r
	LEAQ pool16Even<>(SB), AX
	VMOVDQU32 (AX), Z20
	LEAQ unpoolLo<>(SB), AX
	VMOVDQU32 (AX), Z28
	LEAQ unpoolHi<>(SB), AX
	VMOVDQU32 (AX), Z29
	MOVL $1, AX
	VPBROADCASTD AX, Z23
	VPBROADCASTD R10, Z24
	VPADDD Z23, Z24, Z25
	// Rows of at most 16 outputs and ld <= 32 (conv1's 14 on a 32-wide
	// grid): one group per row and no margin, unpool1_row below.
	CMPQ R9, $16
	JGT unpool_plane
	CMPQ R10, $32
	JLE unpool1
unpool_plane:
	// CX = py.
	XORQ CX, CX
unpool_row:
	// BX = 2*py*ld, the index of the row's first window.
	MOVQ CX, BX
	IMULQ R10, BX
	SHLQ $1, BX
	XORQ AX, AX
	// Rows of at most 16 outputs: one group each, masks set once.
	CMPQ R9, $16
	JGT unpool_group
	TESTQ CX, CX
	JNE unpool_values
unpool_group:
	// K1 = the group's min(16, pw-px) outputs; K6, K7 = its min(32,
	// ld-2px) columns.
	MOVQ R9, R11
	SUBQ AX, R11
	CMPQ R11, $16
	JLE unpool_outmask
	MOVQ $16, R11
unpool_outmask:
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K1
	MOVQ R10, R11
	SUBQ AX, R11
	SUBQ AX, R11
	CMPQ R11, $32
	JLE unpool_colmask
	MOVQ $32, R11
unpool_colmask:
	CMPQ R11, $16
	JLE unpool_lowmask
	SUBQ $16, R11
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K7
	MOVL $0xffff, R13
	KMOVW R13, K6
	JMP unpool_values
unpool_lowmask:
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K6
	KXORW K7, K7, K7
unpool_values:
	// R13 = j = py*pw + px, the group's first output.
	MOVQ CX, R13
	IMULQ R9, R13
	ADDQ AX, R13
	VMOVUPS.Z (SI)(R13*4), K1, Z0
	TESTQ R12, R12
	JEQ unpool_pos
	VMOVUPS.Z (DX)(R13*4), K1, Z1
	VCMPPS $0x1e, Z27, Z1, K2
	VMOVAPS.Z Z0, K2, Z0
unpool_pos:
	// Z2 = arg - (base + 2py*ld + 2px + {0, 2, ..., 30}).
	VMOVDQU32.Z (R8)(R13*4), K1, Z2
	LEAQ (BX)(AX*2), R11
	ADDL base+64(FP), R11
	VPBROADCASTD R11, Z3
	VPADDD Z20, Z3, Z3
	VPSUBD Z3, Z2, Z2
	VPCMPEQD Z27, Z2, K3
	VMOVAPS.Z Z0, K3, Z4
	VPCMPEQD Z23, Z2, K3
	VMOVAPS.Z Z0, K3, Z5
	VPCMPEQD Z24, Z2, K3
	VMOVAPS.Z Z0, K3, Z6
	VPCMPEQD Z25, Z2, K3
	VMOVAPS.Z Z0, K3, Z7
	// Row 2py: a0 a1 interleaved; row 2py+1: a2 a3.
	LEAQ (BX)(AX*2), R11
	VMOVAPS Z4, Z10
	VPERMT2PS Z5, Z28, Z10
	VPERMT2PS Z5, Z29, Z4
	VMOVUPS Z10, K6, (DI)(R11*4)
	VMOVUPS Z4, K7, 64(DI)(R11*4)
	ADDQ R10, R11
	VMOVAPS Z6, Z10
	VPERMT2PS Z7, Z28, Z10
	VPERMT2PS Z7, Z29, Z6
	VMOVUPS Z10, K6, (DI)(R11*4)
	VMOVUPS Z6, K7, 64(DI)(R11*4)
	ADDQ $16, AX
	CMPQ AX, R9
	JLT unpool_group
	// +0 in the columns of both rows from 2AX (past the last group's 32)
	// to ld-1, 16 at a time (the last masked).
	SHLQ $1, AX
unpool_margin:
	MOVQ R10, R11
	SUBQ AX, R11
	JLE unpool_next_row
	CMPQ R11, $16
	JLE unpool_margin_mask
	MOVQ $16, R11
unpool_margin_mask:
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K4
	LEAQ (BX)(AX*1), R11
	VMOVUPS Z27, K4, (DI)(R11*4)
	ADDQ R10, R11
	VMOVUPS Z27, K4, (DI)(R11*4)
	ADDQ $16, AX
	JMP unpool_margin
unpool_next_row:
	INCQ CX
	CMPQ CX, ph+32(FP)
	JLT unpool_row
	// +0 in the rest of the plane: floats 2ph·ld to dstride-1, 16 at a
	// time, the last (up to 16) masked.
	MOVQ ph+32(FP), AX
	IMULQ R10, AX
	SHLQ $1, AX
	MOVQ dstride+88(FP), R11
	SUBQ $16, R11
unpool_rest16:
	CMPQ AX, R11
	JGT unpool_rest_last
	VMOVUPS Z27, (DI)(AX*4)
	ADDQ $16, AX
	JMP unpool_rest16
unpool_rest_last:
	MOVQ dstride+88(FP), R11
	SUBQ AX, R11
	JLE unpool_next_plane
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K4
	VMOVUPS Z27, K4, (DI)(AX*4)
unpool_next_plane:
	// The next plane (n and base are updated in their argument slots).
	MOVQ sstride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	LEAQ (DX)(AX*4), DX
	LEAQ (R8)(AX*4), R8
	MOVQ dstride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	ADDL AX, base+64(FP)
	DECQ n+72(FP)
	JNE unpool_plane
	VMOVSD X14, ret+104(FP)
	VZEROUPPER
	RET

// Rows of one group each (pw <= 16) and ld <= 32: the loop above with
// the masks set once per call, the row's pointers advanced instead of
// recomputed (AX, BX, CX: d, y, arg; R11: the row's dst) and the arg
// offsets of the row's windows in Z3, advanced by 2ld (Z30) per row.
unpool1:
	// K1 = pw outputs; K6, K7 = ld columns.
	MOVL $1, R13
	SHLXL R9, R13, R13
	DECL R13
	KMOVW R13, K1
	MOVQ R10, R11
	CMPQ R11, $16
	JLE unpool1_lowmask
	SUBQ $16, R11
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K7
	MOVL $0xffff, R13
	KMOVW R13, K6
	JMP unpool1_masks_done
unpool1_lowmask:
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K6
	KXORW K7, K7, K7
unpool1_masks_done:
	LEAQ (R10)(R10*1), AX
	VPBROADCASTD AX, Z30
unpool1_plane:
	// Z3 = base + {0, 2, ..., 30}: the first windows of row 0.
	MOVL base+64(FP), AX
	VPBROADCASTD AX, Z3
	VPADDD Z20, Z3, Z3
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R8, CX
	MOVQ DI, R11
	MOVQ ph+32(FP), R13
unpool1_row:
	VMOVUPS.Z (AX), K1, Z0
	TESTQ R12, R12
	JEQ unpool1_pos
	VMOVUPS.Z (BX), K1, Z1
	VCMPPS $0x1e, Z27, Z1, K2
	VMOVAPS.Z Z0, K2, Z0
unpool1_pos:
	VMOVDQU32.Z (CX), K1, Z2
	VPSUBD Z3, Z2, Z2
	VPADDD Z30, Z3, Z3
	VPCMPEQD Z27, Z2, K3
	VMOVAPS.Z Z0, K3, Z4
	VPCMPEQD Z23, Z2, K3
	VMOVAPS.Z Z0, K3, Z5
	VPCMPEQD Z24, Z2, K3
	VMOVAPS.Z Z0, K3, Z6
	VPCMPEQD Z25, Z2, K3
	VMOVAPS.Z Z0, K3, Z7
	VMOVAPS Z4, Z10
	VPERMT2PS Z5, Z28, Z10
	VPERMT2PS Z5, Z29, Z4
	VMOVUPS Z10, K6, (R11)
	VMOVUPS Z4, K7, 64(R11)
	VMOVAPS Z6, Z11
	VPERMT2PS Z7, Z28, Z11
	VPERMT2PS Z7, Z29, Z6
	VMOVUPS Z11, K6, (R11)(R10*4)
	VMOVUPS Z6, K7, 64(R11)(R10*4)
	LEAQ (AX)(R9*4), AX
	LEAQ (BX)(R9*4), BX
	LEAQ (CX)(R9*4), CX
	LEAQ (R11)(R10*8), R11
	DECQ R13
	JNE unpool1_row
	// +0 from R11 (2ph·ld floats in) to the plane's end, dstride floats
	// in: 16 at a time, the last (up to 16) masked.
	MOVQ dstride+88(FP), R13
	LEAQ (DI)(R13*4), R13
	LEAQ -64(R13), BX
unpool1_rest16:
	CMPQ R11, BX
	JGT unpool1_rest_last
	VMOVUPS Z27, (R11)
	ADDQ $64, R11
	JMP unpool1_rest16
unpool1_rest_last:
	SUBQ R11, R13
	JLE unpool1_next_plane
	SHRQ $2, R13
	MOVL $1, AX
	SHLXL R13, AX, AX
	DECL AX
	KMOVW AX, K4
	VMOVUPS Z27, K4, (R11)
unpool1_next_plane:
	MOVQ sstride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	LEAQ (DX)(AX*4), DX
	LEAQ (R8)(AX*4), R8
	MOVQ dstride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	ADDL AX, base+64(FP)
	DECQ n+72(FP)
	JNE unpool1_plane
	VMOVSD X14, ret+104(FP)
	VZEROUPPER
	RET

unpool2r:
	VMOVDQU32 (AX), Z20
	VMOVDQU32 64(AX), Z28
	VMOVDQU32 128(AX), Z29
	MOVL $1, AX
	VPBROADCASTD AX, Z23
	VPBROADCASTD R10, Z24
	VPADDD Z23, Z24, Z25
	// K4 = the ld floats of a row.
	MOVL $1, R13
	SHLXL R10, R13, R13
	DECL R13
	KMOVW R13, K4
unpool2r_plane:
	// K1 = the 2pw outputs of two rows.
	LEAQ (R9)(R9*1), R11
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K1
	// CX = py, the first of the group's rows of outputs.
	XORQ CX, CX
unpool2r_group:
	MOVQ ph+32(FP), AX
	SUBQ CX, AX
	JEQ unpool2r_rest
	CMPQ AX, $1
	JNE unpool2r_values
	// The odd last row alone: K1 = pw outputs.
	MOVL $1, R13
	SHLXL R9, R13, R13
	DECL R13
	KMOVW R13, K1
unpool2r_values:
	// R13 = j = py*pw, the group's first output.
	MOVQ CX, R13
	IMULQ R9, R13
	VMOVUPS.Z (SI)(R13*4), K1, Z0
	TESTQ R12, R12
	JEQ unpool2r_pos
	VMOVUPS.Z (DX)(R13*4), K1, Z1
	VCMPPS $0x1e, Z27, Z1, K2
	VMOVAPS.Z Z0, K2, Z0
unpool2r_pos:
	// BX = 2py*ld; Z2 = arg - (base + 2py*ld + tab).
	VMOVDQU32.Z (R8)(R13*4), K1, Z2
	MOVQ CX, BX
	IMULQ R10, BX
	SHLQ $1, BX
	MOVL base+64(FP), R11
	ADDL BX, R11
	VPBROADCASTD R11, Z3
	VPADDD Z20, Z3, Z3
	VPSUBD Z3, Z2, Z2
	VPCMPEQD Z27, Z2, K3
	VMOVAPS.Z Z0, K3, Z4
	VPCMPEQD Z23, Z2, K3
	VMOVAPS.Z Z0, K3, Z5
	VPCMPEQD Z24, Z2, K3
	VMOVAPS.Z Z0, K3, Z6
	VPCMPEQD Z25, Z2, K3
	VMOVAPS.Z Z0, K3, Z7
	// Rows 2py (a0 a1) and 2py+1 (a2 a3) of the first row of outputs.
	VMOVAPS Z4, Z10
	VPERMT2PS Z5, Z28, Z10
	VMOVUPS Z10, K4, (DI)(BX*4)
	LEAQ (BX)(R10*1), R11
	VMOVAPS Z6, Z11
	VPERMT2PS Z7, Z28, Z11
	VMOVUPS Z11, K4, (DI)(R11*4)
	LEAQ 1(CX), AX
	CMPQ AX, ph+32(FP)
	JEQ unpool2r_rest
	// Rows 2py+2 and 2py+3, of the second.
	ADDQ R10, R11
	VPERMT2PS Z5, Z29, Z4
	VMOVUPS Z4, K4, (DI)(R11*4)
	ADDQ R10, R11
	VPERMT2PS Z7, Z29, Z6
	VMOVUPS Z6, K4, (DI)(R11*4)
	ADDQ $2, CX
	JMP unpool2r_group
unpool2r_rest:
	// +0 in floats 2ph·ld to dstride-1, as above.
	MOVQ ph+32(FP), AX
	IMULQ R10, AX
	SHLQ $1, AX
	MOVQ dstride+88(FP), R11
	SUBQ $16, R11
unpool2r_rest16:
	CMPQ AX, R11
	JGT unpool2r_rest_last
	VMOVUPS Z27, (DI)(AX*4)
	ADDQ $16, AX
	JMP unpool2r_rest16
unpool2r_rest_last:
	MOVQ dstride+88(FP), R11
	SUBQ AX, R11
	JLE unpool2r_next_plane
	MOVL $1, R13
	SHLXL R11, R13, R13
	DECL R13
	KMOVW R13, K5
	VMOVUPS Z27, K5, (DI)(AX*4)
unpool2r_next_plane:
	MOVQ sstride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	LEAQ (DX)(AX*4), DX
	LEAQ (R8)(AX*4), R8
	MOVQ dstride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	ADDL AX, base+64(FP)
	DECQ n+72(FP)
	JNE unpool2r_plane
	VMOVSD X14, ret+104(FP)
	VZEROUPPER
	RET

// func lookupAVX512(dst *float32, src *uint8, n int, table *[256]float32)
//
// dst[i] = table[src[i]] for i < n, n a positive multiple of 16: 16 bytes
// widened to int32 indexes, then one gather from the table.
TEXT ·lookupAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ table+24(FP), DX
	XORQ AX, AX
lookup512_loop:
	VPMOVZXBD (SI)(AX*1), Z0
	KXNORW K1, K1, K1
	VGATHERDPS (DX)(Z0*4), K1, Z1
	VMOVUPS Z1, (DI)(AX*4)
	ADDQ $16, AX
	CMPQ AX, CX
	JLT lookup512_loop
	VZEROUPPER
	RET
