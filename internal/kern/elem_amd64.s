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
