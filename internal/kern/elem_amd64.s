//go:build !purego

#include "textflag.h"

// Elementwise kernels, 8 floats per step. VMAXPS with the zero register as
// the second (Intel) source returns that zero when the first is NaN or when
// both are zeros of either sign (Intel SDM vol. 2, MAXPS), which is exactly
// the scalar rule "not greater than zero becomes +0".

// func addBiasAVX2(x *float32, n int, bias float32, relu int)
TEXT ·addBiasAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS bias+16(FP), Y1
	VXORPS Y2, Y2, Y2
	MOVQ relu+24(FP), AX
	SHLQ $2, CX
	XORQ SI, SI
	TESTQ AX, AX
	JNE addbias_relu
addbias_loop:
	VADDPS (DI)(SI*1), Y1, Y0
	VMOVUPS Y0, (DI)(SI*1)
	ADDQ $32, SI
	CMPQ SI, CX
	JLT addbias_loop
	VZEROUPPER
	RET
addbias_relu:
	VADDPS (DI)(SI*1), Y1, Y0
	VMAXPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)(SI*1)
	ADDQ $32, SI
	CMPQ SI, CX
	JLT addbias_relu
	VZEROUPPER
	RET

// func addBiasVecAVX2(x, bias *float32, n int, relu int)
TEXT ·addBiasVecAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ bias+8(FP), DX
	MOVQ n+16(FP), CX
	MOVQ relu+24(FP), AX
	VXORPS Y2, Y2, Y2
	SHLQ $2, CX
	XORQ SI, SI
	TESTQ AX, AX
	JNE addbiasvec_relu
addbiasvec_loop:
	VMOVUPS (DI)(SI*1), Y0
	VADDPS (DX)(SI*1), Y0, Y0
	VMOVUPS Y0, (DI)(SI*1)
	ADDQ $32, SI
	CMPQ SI, CX
	JLT addbiasvec_loop
	VZEROUPPER
	RET
addbiasvec_relu:
	VMOVUPS (DI)(SI*1), Y0
	VADDPS (DX)(SI*1), Y0, Y0
	VMAXPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)(SI*1)
	ADDQ $32, SI
	CMPQ SI, CX
	JLT addbiasvec_relu
	VZEROUPPER
	RET

// func reluMaskAVX2(d, y *float32, n int)
TEXT ·reluMaskAVX2(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ y+8(FP), DX
	MOVQ n+16(FP), CX
	VXORPS Y2, Y2, Y2
	SHLQ $2, CX
	XORQ SI, SI
relumask_loop:
	// Y1 = all ones where y > 0 (GT_OQ, predicate 0x1E: false for NaN).
	VMOVUPS (DX)(SI*1), Y0
	VCMPPS $0x1e, Y2, Y0, Y1
	VANDPS (DI)(SI*1), Y1, Y1
	VMOVUPS Y1, (DI)(SI*1)
	ADDQ $32, SI
	CMPQ SI, CX
	JLT relumask_loop
	VZEROUPPER
	RET

// func rowsAVX2(dst, src *float32, blocks, dblock, sblock, rows, dstride, sstride, width, add int)
//
// For each of blocks blocks (dst and src advanced by dblock and sblock bytes
// per block), for each of rows rows (strides dstride, sstride bytes), copy
// or add width floats. A row of 8 or more floats is done in 8-float chunks
// plus one final chunk ending at the last float, which may overlap the
// previous one: it is computed from the original values before any store
// of the row, so overlapping floats receive the same value twice. Shorter
// rows go one float at a time. No float outside the segments is touched
// (masked stores would avoid the overlap but are microcoded and slow on
// AMD Zen).
TEXT ·rowsAVX2(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), BX
	MOVQ width+64(FP), DX
	MOVQ add+72(FP), R12
	// R10 = bytes of whole chunks; R11 = byte offset of the final chunk.
	MOVQ DX, R10
	ANDQ $-8, R10
	SHLQ $2, R10
	LEAQ -32(DX*4), R11
	SHLQ $2, DX
	// Rows of 8 to 16 floats (LeNet-5's conv2 has 10): two chunks each,
	// straight-line code.
	CMPQ DX, $32
	JLT rows_block
	CMPQ DX, $64
	JLE rows2_block
rows_block:
	MOVQ DI, R13
	MOVQ SI, R9
	MOVQ rows+40(FP), CX
rows_row:
	XORQ AX, AX
	CMPQ DX, $32
	JLT rows_short
	TESTQ R12, R12
	JNE rows_add
	VMOVUPS (SI)(R11*1), Y6
rows_copy_chunk:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R10
	JLT rows_copy_chunk
	VMOVUPS Y6, (DI)(R11*1)
	JMP rows_next
rows_add:
	VMOVUPS (DI)(R11*1), Y6
	VADDPS (SI)(R11*1), Y6, Y6
rows_add_chunk:
	VMOVUPS (DI)(AX*1), Y0
	VADDPS (SI)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R10
	JLT rows_add_chunk
	VMOVUPS Y6, (DI)(R11*1)
	JMP rows_next
rows_short:
	TESTQ R12, R12
	JNE rows_short_add
rows_short_copy:
	VMOVSS (SI)(AX*1), X0
	VMOVSS X0, (DI)(AX*1)
	ADDQ $4, AX
	CMPQ AX, DX
	JLT rows_short_copy
	JMP rows_next
rows_short_add:
	VMOVSS (DI)(AX*1), X0
	VADDSS (SI)(AX*1), X0, X0
	VMOVSS X0, (DI)(AX*1)
	ADDQ $4, AX
	CMPQ AX, DX
	JLT rows_short_add
rows_next:
	ADDQ dstride+48(FP), DI
	ADDQ sstride+56(FP), SI
	DECQ CX
	JNE rows_row
	MOVQ R13, DI
	MOVQ R9, SI
	ADDQ dblock+24(FP), DI
	ADDQ sblock+32(FP), SI
	DECQ BX
	JNE rows_block
	VZEROUPPER
	RET

rows2_block:
	MOVQ DI, R13
	MOVQ SI, R9
	MOVQ rows+40(FP), CX
	MOVQ dstride+48(FP), R10
	MOVQ sstride+56(FP), DX
	TESTQ R12, R12
	JNE rows2_add
rows2_copy:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R11*1), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(R11*1)
	ADDQ R10, DI
	ADDQ DX, SI
	DECQ CX
	JNE rows2_copy
	JMP rows2_next
rows2_add:
	VMOVUPS (DI), Y0
	VMOVUPS (DI)(R11*1), Y1
	VADDPS (SI), Y0, Y0
	VADDPS (SI)(R11*1), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(R11*1)
	ADDQ R10, DI
	ADDQ DX, SI
	DECQ CX
	JNE rows2_add
rows2_next:
	MOVQ R13, DI
	MOVQ R9, SI
	ADDQ dblock+24(FP), DI
	ADDQ sblock+32(FP), SI
	DECQ BX
	JNE rows2_block
	VZEROUPPER
	RET

// pool2Step0246 holds the int32 lanes 0, 2, 4, 6: the column of each
// window of a group of 4 relative to the group's first input column.
DATA pool2Step0246<>+0(SB)/4, $0
DATA pool2Step0246<>+4(SB)/4, $2
DATA pool2Step0246<>+8(SB)/4, $4
DATA pool2Step0246<>+12(SB)/4, $6
GLOBL pool2Step0246<>(SB), RODATA|NOPTR, $16

// func maxPool2AVX2(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32)
//
// Per group of 4 windows, with 128-bit AVX:
//   X0..X3 = window elements a0..a3 (even/odd columns of rows 2py, 2py+1,
//            split with VSHUFPS)
//   X4 = running maximum m, X5 = offset of the arg-max inside the window
//   step with x: X5 = (x > m) ? K : X5; m = max(m, x) & max(x, m), the AND
//   giving +0 for max(±0, ∓0) as Go's max does (a NaN is patched after).
//   X10..X12 = the window offsets 1, ld, ld+1; X13 = bias; X14 = 0;
//   X15 = 0, 2, 4, 6.
TEXT ·maxPool2AVX2(SB), NOSPLIT, $0-68
	MOVQ dst+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ ph+24(FP), BX
	MOVQ pw+32(FP), R9
	MOVQ ld+40(FP), R10
	VBROADCASTSS bias+48(FP), X13
	MOVL base+64(FP), R12
	VXORPS X14, X14, X14
	MOVL $1, AX
	VMOVD AX, X10
	VPBROADCASTD X10, X10
	VMOVD R10, X11
	VPBROADCASTD X11, X11
	VPADDD X10, X11, X12
	LEAQ pool2Step0246<>(SB), AX
	VMOVDQU (AX), X15
	// CX = py, the row of outputs.
	XORQ CX, CX
pool2_row:
	// DX = 2*py*ld. (R14 and R15 are left alone: g and the GOT pointer.)
	MOVQ CX, DX
	IMULQ R10, DX
	SHLQ $1, DX
	XORQ AX, AX
pool2_group:
	// AX = first output of the group (px); inputs at columns 2px..2px+7.
	LEAQ (DX)(AX*2), R13
	VMOVUPS (SI)(R13*4), X6
	VMOVUPS 16(SI)(R13*4), X7
	ADDQ R10, R13
	VMOVUPS (SI)(R13*4), X8
	VMOVUPS 16(SI)(R13*4), X9
	VSHUFPS $0x88, X7, X6, X0
	VSHUFPS $0xdd, X7, X6, X1
	VSHUFPS $0x88, X9, X8, X2
	VSHUFPS $0xdd, X9, X8, X3
	VMOVAPS X0, X4
	VXORPS X5, X5, X5
	// a1
	VCMPPS $0x1e, X4, X1, X6
	VBLENDVPS X6, X10, X5, X5
	VMAXPS X1, X4, X7
	VMAXPS X4, X1, X8
	VANDPS X8, X7, X4
	// a2
	VCMPPS $0x1e, X4, X2, X6
	VBLENDVPS X6, X11, X5, X5
	VMAXPS X2, X4, X7
	VMAXPS X4, X2, X8
	VANDPS X8, X7, X4
	// a3
	VCMPPS $0x1e, X4, X3, X6
	VBLENDVPS X6, X12, X5, X5
	VMAXPS X3, X4, X7
	VMAXPS X4, X3, X8
	VANDPS X8, X7, X4
	// A NaN anywhere in the window makes the maximum NaN.
	VCMPPS $3, X1, X0, X6
	VCMPPS $3, X3, X2, X7
	VORPS X7, X6, X6
	VADDPS X1, X0, X7
	VADDPS X3, X2, X8
	VADDPS X8, X7, X7
	VBLENDVPS X6, X7, X4, X4
	// bias, then ReLU as Go's max(v, 0): +0 for v <= 0 or -0, NaN kept.
	VADDPS X13, X4, X4
	CMPQ relu+56(FP), $0
	JEQ pool2_store
	VMAXPS X14, X4, X7
	VCMPPS $3, X4, X4, X6
	VBLENDVPS X6, X4, X7, X4
pool2_store:
	// Output index o = py*pw + px.
	MOVQ CX, R13
	IMULQ R9, R13
	ADDQ AX, R13
	VMOVUPS X4, (DI)(R13*4)
	// arg = base + 2py*ld + 2px + {0,2,4,6} + window offset.
	LEAQ (DX)(AX*2), R11
	ADDL R12, R11
	VMOVD R11, X6
	VPBROADCASTD X6, X6
	VPADDD X15, X6, X6
	VPADDD X5, X6, X6
	VMOVDQU X6, (R8)(R13*4)
	// Next group; the last one of a row may overlap: px = pw-4.
	ADDQ $4, AX
	CMPQ AX, R9
	JGE pool2_next_row
	LEAQ 4(AX), R13
	CMPQ R13, R9
	JLE pool2_group
	MOVQ R9, AX
	SUBQ $4, AX
	JMP pool2_group
pool2_next_row:
	INCQ CX
	CMPQ CX, BX
	JLT pool2_row
	RET

// sgdAhead is how far ahead in p (bytes) sgdMomentumAVX2 asks for p's
// lines with the intent to write them (1024 and 4096 measured the same).
#define sgdAhead 2048

// PREFETCHW_R8 is PREFETCHW (R8), 0F 0D /1, which Go's assembler has no
// mnemonic for: fetch the line at R8 for writing. A hint that changes no
// memory; Intel processors before Broadwell (AVX2 since Haswell) run it as
// a NOP.
#define PREFETCHW_R8 BYTE $0x41; BYTE $0x0F; BYTE $0x0D; BYTE $0x08

// func sgdMomentumAVX2(p, buf, grad *float32, n int, momentum, negLR float32)
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), DI
	MOVQ buf+8(FP), SI
	MOVQ grad+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS momentum+32(FP), Y14
	VBROADCASTSS negLR+36(FP), Y15
	SHLQ $2, CX
	// In a training step on two cores, the other core has just read these
	// parameters (its forward and backward pass), so p's lines are shared
	// and each store must first invalidate the other copy: one round trip
	// per line, one line at a time as the stores retire in order. PREFETCHW
	// asks for the lines in exclusive state ahead of the stores, many at
	// once: the first sgdAhead bytes of p (or all of p), then, in the loop,
	// the line sgdAhead bytes ahead while it lies inside p (never past it:
	// the next part of the vector is the other core's). Measured with a
	// quarter of the parameters (15,424 floats) the other core had read:
	// 31 µs without, 5.5 µs with; 2.30 vs 2.39 µs when no other core holds
	// the lines (docs/speed.md).
	XORQ AX, AX
sgd_pre:
	LEAQ (DI)(AX*1), R8
	PREFETCHW_R8
	ADDQ $64, AX
	CMPQ AX, CX
	JGE sgd_start
	CMPQ AX, $sgdAhead
	JLT sgd_pre
sgd_start:
	XORQ AX, AX
sgd_loop:
	LEAQ sgdAhead(AX), R8
	CMPQ R8, CX
	JGE sgd_nopf
	ADDQ DI, R8
	PREFETCHW_R8
sgd_nopf:
	// buf = buf*momentum + g, rounded after each operation.
	VMULPS (SI)(AX*1), Y14, Y0
	VADDPS (DX)(AX*1), Y0, Y0
	VMOVUPS Y0, (SI)(AX*1)
	// p = negLR*buf + p, rounded once.
	VMOVUPS (DI)(AX*1), Y1
	VFMADD231PS Y0, Y15, Y1
	VMOVUPS Y1, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT sgd_loop
	VZEROUPPER
	RET

// pool8Step holds the int32 lanes 0, 2, ..., 14: the column of each window
// of a group of 8 relative to the group's first input column.
DATA pool8Step<>+0(SB)/4, $0
DATA pool8Step<>+4(SB)/4, $2
DATA pool8Step<>+8(SB)/4, $4
DATA pool8Step<>+12(SB)/4, $6
DATA pool8Step<>+16(SB)/4, $8
DATA pool8Step<>+20(SB)/4, $10
DATA pool8Step<>+24(SB)/4, $12
DATA pool8Step<>+28(SB)/4, $14
GLOBL pool8Step<>(SB), RODATA|NOPTR, $32

// func maxPool2AVX2x8(dst *float32, arg *int32, src *float32, ph, pw, ld int, bias float32, relu int, base int32)
//
// maxPool2AVX2 with 256-bit registers: 8 windows per group (pw >= 8).
TEXT ·maxPool2AVX2x8(SB), NOSPLIT, $0-68
	MOVQ dst+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ ph+24(FP), BX
	MOVQ pw+32(FP), R9
	MOVQ ld+40(FP), R10
	VBROADCASTSS bias+48(FP), Y13
	MOVL base+64(FP), R12
	VXORPS Y14, Y14, Y14
	MOVL $1, AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10
	VMOVD R10, X11
	VPBROADCASTD X11, Y11
	VPADDD Y10, Y11, Y12
	LEAQ pool8Step<>(SB), AX
	VMOVDQU (AX), Y15
	// CX = py, the row of outputs.
	XORQ CX, CX
pool8_row:
	// DX = 2*py*ld. (R14 and R15 are left alone: g and the GOT pointer.)
	MOVQ CX, DX
	IMULQ R10, DX
	SHLQ $1, DX
	XORQ AX, AX
pool8_group:
	// AX = first output of the group (px); inputs at columns 2px..2px+15.
	LEAQ (DX)(AX*2), R13
	VMOVUPS (SI)(R13*4), Y6
	VMOVUPS 32(SI)(R13*4), Y7
	ADDQ R10, R13
	VMOVUPS (SI)(R13*4), Y8
	VMOVUPS 32(SI)(R13*4), Y9
	VSHUFPS $0x88, Y7, Y6, Y0
	VSHUFPS $0xdd, Y7, Y6, Y1
	VSHUFPS $0x88, Y9, Y8, Y2
	VSHUFPS $0xdd, Y9, Y8, Y3
	// VSHUFPS works within 128-bit lanes: restore the window order.
	VPERMPD $0xd8, Y0, Y0
	VPERMPD $0xd8, Y1, Y1
	VPERMPD $0xd8, Y2, Y2
	VPERMPD $0xd8, Y3, Y3
	VMOVAPS Y0, Y4
	VXORPS Y5, Y5, Y5
	// a1
	VCMPPS $0x1e, Y4, Y1, Y6
	VBLENDVPS Y6, Y10, Y5, Y5
	VMAXPS Y1, Y4, Y7
	VMAXPS Y4, Y1, Y8
	VANDPS Y8, Y7, Y4
	// a2
	VCMPPS $0x1e, Y4, Y2, Y6
	VBLENDVPS Y6, Y11, Y5, Y5
	VMAXPS Y2, Y4, Y7
	VMAXPS Y4, Y2, Y8
	VANDPS Y8, Y7, Y4
	// a3
	VCMPPS $0x1e, Y4, Y3, Y6
	VBLENDVPS Y6, Y12, Y5, Y5
	VMAXPS Y3, Y4, Y7
	VMAXPS Y4, Y3, Y8
	VANDPS Y8, Y7, Y4
	// A NaN anywhere in the window makes the maximum NaN.
	VCMPPS $3, Y1, Y0, Y6
	VCMPPS $3, Y3, Y2, Y7
	VORPS Y7, Y6, Y6
	VADDPS Y1, Y0, Y7
	VADDPS Y3, Y2, Y8
	VADDPS Y8, Y7, Y7
	VBLENDVPS Y6, Y7, Y4, Y4
	// bias, then ReLU as Go's max(v, 0): +0 for v <= 0 or -0, NaN kept.
	VADDPS Y13, Y4, Y4
	CMPQ relu+56(FP), $0
	JEQ pool8_store
	VMAXPS Y14, Y4, Y7
	VCMPPS $3, Y4, Y4, Y6
	VBLENDVPS Y6, Y4, Y7, Y4
pool8_store:
	// Output index o = py*pw + px.
	MOVQ CX, R13
	IMULQ R9, R13
	ADDQ AX, R13
	VMOVUPS Y4, (DI)(R13*4)
	// arg = base + 2py*ld + 2px + {0,2,...,14} + window offset.
	LEAQ (DX)(AX*2), R11
	ADDL R12, R11
	VMOVD R11, X6
	VPBROADCASTD X6, Y6
	VPADDD Y15, Y6, Y6
	VPADDD Y5, Y6, Y6
	VMOVDQU Y6, (R8)(R13*4)
	// Next group; the last one of a row may overlap: px = pw-8.
	ADDQ $8, AX
	CMPQ AX, R9
	JGE pool8_next_row
	LEAQ 8(AX), R13
	CMPQ R13, R9
	JLE pool8_group
	MOVQ R9, AX
	SUBQ $8, AX
	JMP pool8_group
pool8_next_row:
	INCQ CX
	CMPQ CX, BX
	JLT pool8_row
	VZEROUPPER
	RET

// func sum2AVX2(dst, a, b *float32, n int, acc int)
//
// dst = a + b (acc == 0) or dst = (dst + a) + b, each addition rounded.
TEXT ·sum2AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
	CMPQ acc+32(FP), $0
	JNE sum2_acc
sum2_set:
	VMOVUPS (SI)(AX*1), Y0
	VADDPS (DX)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT sum2_set
	VZEROUPPER
	RET
sum2_acc:
	VMOVUPS (DI)(AX*1), Y0
	VADDPS (SI)(AX*1), Y0, Y0
	VADDPS (DX)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT sum2_acc
	VZEROUPPER
	RET

// func prefetchLines(p *uint8, n int)
//
// PREFETCHT0 of every 64-byte line of p[0:n], n > 0: a hint that changes
// no memory.
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ -1(SI)(CX*1), CX
	ANDQ $-64, CX
	ANDQ $-64, SI
prefetch_loop:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	CMPQ SI, CX
	JLE prefetch_loop
	RET

// func cpuidRegs(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuidRegs(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func cpuHint() uint32
//
// RDTSCP's IA32_TSC_AUX value masked to 12 bits: on Linux, which stores
// node<<12 | cpu there, the number of the processor running the caller.
TEXT ·cpuHint(SB), NOSPLIT, $0-4
	RDTSCP
	ANDL $0xfff, CX
	MOVL CX, ret+0(FP)
	RET
