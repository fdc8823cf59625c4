//go:build !unix

package kern

import "time"

// processCPU is not available here; benchmarks then omit cpu-GFLOP/s.
func processCPU() time.Duration { return 0 }
