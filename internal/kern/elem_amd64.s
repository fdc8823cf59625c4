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
