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
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	p := cur()
	if p.sumT != nil {
		p.sumT(m, n, terms, c, ldc)
		return
	}
	sumTComposed(p.sgemm, m, n, terms, c, ldc)
}

// sumTFunc is the signature of the implementations behind
// [SumTProducts]; arguments have been checked, m and n are positive and
// there is at least one term.
type sumTFunc func(m, n int, terms []TProduct, c []float32, ldc int)

// sumTile is the size, in floats, of the buffer sumTComposed computes a
// term's product of a tile of C in (16 KiB; the largest block model's
// reduction asks for is 3,200 floats).
const sumTile = 4096

// sumBuffers holds the buffers of sumTComposed not in use: taking one and
// giving it back allocates nothing once there are as many as concurrent
// calls (a buffered channel, unlike a sync.Pool, keeps them across garbage
// collections).
var sumBuffers = make(chan *[sumTile]float32, 64)

// sumTComposed is [SumTProducts] as the composition it is defined by, for
// the paths without a kernel of their own: for each tile of C of at most
// sumTile elements (whole rows when they fit), the first term's product
// by gemm into C, then each other term's into a buffer and added to the
// tile ([Add]), in the terms' order.
func sumTComposed(gemm gemmFunc, m, n int, terms []TProduct, c []float32, ldc int) {
	var buf *[sumTile]float32
	select {
	case buf = <-sumBuffers:
	default:
		buf = new([sumTile]float32)
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
			tmp := buf[:rows*cols]
			for s, t := range terms {
				switch {
				case s == 0 && t.K == 0:
					for i := range rows {
						clear(ct[i*ldc:][:cols])
					}
				case s == 0:
					// the first term's product straight into C
					gemm(true, false, rows, cols, t.K, t.A[i0:], t.Lda, t.B[j0:], t.Ldb, false, ct, ldc)
				case t.K == 0:
					clear(tmp)
				default:
					gemm(true, false, rows, cols, t.K, t.A[i0:], t.Lda, t.B[j0:], t.Ldb, false, tmp, cols)
				}
				if s == 0 {
					continue
				}
				for i := range rows {
					Add(ct[i*ldc:][:cols], tmp[i*cols:][:cols])
				}
			}
		}
	}
}
