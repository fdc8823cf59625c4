package kern

// sgemm is the implementation behind [Sgemm], chosen once at package
// initialisation.
var sgemm = sgemmGeneric

// sgemmRows and sgemmRowsT are the implementations behind [SgemmRows] and
// [SgemmRowsT].
var (
	sgemmRows  = sgemmRowsGeneric
	sgemmRowsT = sgemmRowsTGeneric
)

// impl is the value returned by [Impl].
var impl = "generic"

// Impl names the code path in use: "avx2" on amd64 processors with AVX2 and
// FMA (default build), "generic" on other processors or when built with the
// purego build tag.
func Impl() string { return impl }
