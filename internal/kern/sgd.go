package kern

// SGDMomentum applies one step of SGD with momentum (PyTorch's torch.optim.SGD
// update with momentum and no dampening, weight decay or Nesterov), element by
// element:
//
//	buf[i] = fl(fl(buf[i]·momentum) + g[i])   (two float32 roundings)
//	p[i]   = fl(negLR·buf[i] + p[i])          (one rounding: a fused multiply-add)
//
// negLR is the negated learning rate. Every code path gives identical bits
// (see the package doc, "Canonical arithmetic"). It panics if the three
// slices differ in length.
func SGDMomentum(p, buf, g []float32, momentum, negLR float32) {
	if len(buf) != len(p) || len(g) != len(p) {
		panic(errLength)
	}
	n := sgdMomentumAsm(p, buf, g, momentum, negLR)
	sgdMomentumGeneric(p[n:], buf[n:], g[n:], momentum, negLR)
}

func sgdMomentumGeneric(p, buf, g []float32, momentum, negLR float32) {
	buf = buf[:len(p)]
	g = g[:len(p)]
	for i := range p {
		// The conversions keep the compiler from fusing (Go spec,
		// "Floating-point operators").
		b := float32(float32(buf[i]*momentum) + g[i])
		buf[i] = b
		p[i] = fma32(negLR, b, p[i])
	}
}
