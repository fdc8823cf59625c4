package kern

//go:generate go run ./asmgen -out sgemm_amd64.s -goout kernels_amd64.go -out512 sgemm512_amd64.s -goout512 kernels512_amd64.go -outneon sgemm_arm64.s -goneon kernels_arm64.go
