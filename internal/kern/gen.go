package kern

//go:generate go run ./asmgen -out sgemm_amd64.s -goout kernels_amd64.go
