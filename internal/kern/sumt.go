package kern

// TProduct is one term of [SumTProducts]: the product Aᵀ·B, K steps
// long, of an A stored as a K×m matrix with row stride Lda and a B stored
// as a K×n matrix with row stride Ldb (m and n are SumTProducts'). K may
// be 0 (a zero product); A and B are then not read.
type TProduct struct {
	A   []float32
	Lda int
	B   []float32
	Ldb int
	K   int
}

// SumTProducts sets the m×n matrix C (row stride ldc) to the sum of the
// terms' products in their order,
//
//	C = ((P_0 + P_1) + P_2) + ... + P_(t-1),
//
// where P_s = A_sᵀ·B_s is, bit for bit, what Sgemm(true, false, m, n,
// K_s, A_s, Lda_s, B_s, Ldb_s, false, P, ...) writes (the chain form from
// +0; +0 for K_s = 0), and each sum is one float32 addition: the
// composition of those Sgemm calls with [Sum], [Add2] and [Add], without
// storing any term's product by itself. With one term C = P_0; with none,
// C = +0. The previous contents of C are never read. A caller that sums
// per-shard weight gradients dW_s = dY_sᵀ·X_s of a layer over shards
// passes the shards as terms.
//
// It panics with a message starting "kern: " if m, n or a K is negative,
// ldc, an Lda or an Ldb is smaller than the row it strides (or than 1),
// or a slice is too short for its matrix.
func SumTProducts(m, n int, terms []TProduct, c []float32, ldc int) {
	sumTProducts(m, n, terms, c, ldc, false)
}

// AddTProducts adds the terms' products to the m×n matrix C (row stride
// ldc) in their order,
//
//	C = ((C + P_0) + P_1) + ... + P_(t-1),
//
// with P_s as in [SumTProducts] and each sum one float32 addition: C
// unchanged with no term. It continues a sum SumTProducts started: for
// terms T and U, SumTProducts(T) followed by AddTProducts(U) leaves C
// with the bits of SumTProducts(T then U), and since one addition is
// commutative, so does SumTProducts([T_1]) followed by AddTProducts([T_0]
// then the rest of U) (but for the payload of a NaN). It panics as
// SumTProducts does.
func AddTProducts(m, n int, terms []TProduct, c []float32, ldc int) {
	sumTProducts(m, n, terms, c, ldc, true)
}

// sumTProducts is SumTProducts (add false) or AddTProducts (add true).
func sumTProducts(m, n int, terms []TProduct, c []float32, ldc int, add bool) {
	if m < 0 || n < 0 {
		panic(errNegDim)
	}
	if ldc < max(1, n) {
		panic(errBadLdC)
	}
	for _, t := range terms {
		if t.K < 0 {
			panic(errNegDim)
		}
		if t.Lda < max(1, m) {
			panic(errBadLdA)
		}
		if t.Ldb < max(1, n) {
			panic(errBadLdB)
		}
	}
	if m == 0 || n == 0 {
		return
	}
	if len(c) < (m-1)*ldc+n {
		panic(errShortC)
	}
	for _, t := range terms {
		if t.K == 0 {
			continue
		}
		if len(t.A) < (t.K-1)*t.Lda+m {
			panic(errShortA)
		}
		if len(t.B) < (t.K-1)*t.Ldb+n {
			panic(errShortB)
		}
	}
	if len(terms) == 0 {
		if !add {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	p := cur()
	if p.sumT != nil {
		p.sumT(m, n, terms, c, ldc, add)
		return
	}
	sumTComposed(p.sgemm, m, n, terms, c, ldc, add)
}

// sumTFunc is the signature of the implementations behind
// [SumTProducts] and [AddTProducts] (add set); arguments have been
// checked, m and n are positive and there is at least one term.
type sumTFunc func(m, n int, terms []TProduct, c []float32, ldc int, add bool)

// sumTile is the size, in floats, of the buffer sumTComposed computes a
// term's product of a tile of C in (16 KiB; the largest block model's
// reduction asks for is 3,200 floats).
const sumTile = 4096

// sumBuffers holds the buffers of sumTComposed not in use: taking one and
// giving it back allocates nothing once there are as many as concurrent
// calls (a buffered channel, unlike a sync.Pool, keeps them across garbage
// collections).
var sumBuffers = make(chan *[2][sumTile]float32, 64)

// sumTComposed is [SumTProducts] (or [AddTProducts] if add) as the
// composition it is defined by, for the paths without a kernel of their
// own: for each tile of C of at most sumTile elements (whole rows when
// they fit), the first term's product by gemm into C (unless add), then
// the others' two at a time into two buffers, added to the tile with
// [Add2] (a last odd one with [Add]), in the terms' order.
func sumTComposed(gemm gemmFunc, m, n int, terms []TProduct, c []float32, ldc int, add bool) {
	var buf *[2][sumTile]float32
	select {
	case buf = <-sumBuffers:
	default:
		buf = new([2][sumTile]float32)
	}
	defer func() {
		select {
		case sumBuffers <- buf:
		default:
		}
	}()
	cw := min(n, sumTile)    // columns of a tile
	rh := max(1, sumTile/cw) // rows of a tile
	for i0 := 0; i0 < m; i0 += rh {
		rows := min(rh, m-i0)
		for j0 := 0; j0 < n; j0 += cw {
			cols := min(cw, n-j0)
			ct := c[i0*ldc+j0:]
			// product computes term s's product of the tile into dst
			// (row stride ld).
			product := func(s int, dst []float32, ld int) {
				t := terms[s]
				if t.K == 0 {
					for i := range rows {
						clear(dst[i*ld:][:cols])
					}
					return
				}
				gemm(true, false, rows, cols, t.K, t.A[i0:], t.Lda, t.B[j0:], t.Ldb, false, dst, ld)
			}
			s0 := 0
			if !add {
				product(0, ct, ldc)
				s0 = 1
			}
			for s := s0; s < len(terms); s += 2 {
				t0 := buf[0][:rows*cols]
				product(s, t0, cols)
				if s+1 == len(terms) {
					if ldc == cols {
						Add(ct[:rows*cols], t0)
						continue
					}
					for i := range rows {
						Add(ct[i*ldc:][:cols], t0[i*cols:][:cols])
					}
					continue
				}
				t1 := buf[1][:rows*cols]
				product(s+1, t1, cols)
				if ldc == cols {
					Add2(ct[:rows*cols], t0, t1)
					continue
				}
				for i := range rows {
					Add2(ct[i*ldc:][:cols], t0[i*cols:][:cols], t1[i*cols:][:cols])
				}
			}
		}
	}
}
