//go:build !purego

package kern

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// sysGetcpu is getcpu's number on linux/amd64 (arch/x86/entry/syscalls/
// syscall_64.tbl); package syscall does not name it.
const sysGetcpu = 309

// TestCPUHint checks that cpuHint names the processor the caller runs on,
// as getcpu(2) does, on each of the first processors in turn (pinned with
// sched_setaffinity), so that getWorkspace's first choice of slot follows
// the core.
func TestCPUHint(t *testing.T) {
	if !hasRDTSCP {
		t.Skip("no RDTSCP on this processor")
	}
	n := min(runtime.NumCPU(), 4)
	for cpu := range n {
		done := make(chan [2]int)
		go func() {
			// ends locked: the runtime then ends the pinned thread
			if !pinToCPU(cpu) {
				done <- [2]int{-1, -1}
				return
			}
			var c, node uint32
			if _, _, e := syscall.RawSyscall(sysGetcpu, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
				done <- [2]int{-1, -1}
				return
			}
			done <- [2]int{int(c), int(cpuHint())}
		}()
		got := <-done
		if got[0] < 0 {
			t.Skip("sched_setaffinity or getcpu failed")
		}
		if got[0] != cpu || got[1] != cpu {
			t.Errorf("pinned to processor %d: getcpu says %d, cpuHint %d", cpu, got[0], got[1])
		}
	}
}
