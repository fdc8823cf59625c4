//go:build unix

package ckpt

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/internal/selfexec"
)

// startSaver starts this test binary as a child that saves a LeNet-sized
// checkpoint (step 99) to path, with the commit delay set to delay.
func startSaver(t *testing.T, path, delay string) *exec.Cmd {
	t.Helper()
	selfexec.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=save:"+path, faultinject.CommitDelayEnv+"="+delay)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// tempFiles lists the temp files of Save in dir.
func tempFiles(t *testing.T, dir string) []string {
	var out []string
	for _, n := range dirNames(t, dir) {
		if IsTemp(n) {
			out = append(out, n)
		}
	}
	return out
}

// TestKillDuringCommit SIGKILLs a process in the middle of writing its temp
// file (held there by the commit delay) and checks what a later run sees: the
// previous checkpoint, intact; the torn temp file ignored by List and Newest
// and removed by CleanTemp; a new Save working.
func TestKillDuringCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "LenetMnist0.ckpt")
	mustSave(t, path, sample(1, false))

	cmd := startSaver(t, path, "1h")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if tmp := tempFiles(t, dir); len(tmp) == 1 {
			if st, err := os.Stat(filepath.Join(dir, tmp[0])); err == nil && st.Size() > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("child never wrote its temp file")
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if tmp := tempFiles(t, dir); len(tmp) != 1 {
		t.Fatalf("after the kill: temp files %v, want one torn temp file", tmp)
	}
	c, got, skipped, err := Newest(dir)
	if err != nil || got != path || c.GetGlobalStep() != 1 || len(skipped) != 0 {
		t.Fatalf("Newest after the kill = %s step %d, skipped %v, %v; want %s step 1", got, c.GetGlobalStep(), skipped, err, path)
	}
	if err := CleanTemp(dir); err != nil {
		t.Fatal(err)
	}
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Fatalf("CleanTemp left %v", tmp)
	}
	mustSave(t, path, sample(2, false))
	if c, err := Load(path); err != nil || c.GetGlobalStep() != 2 {
		t.Fatalf("Save after recovery: step %d, %v", c.GetGlobalStep(), err)
	}
}

// TestKillAtRandomMoments SIGKILLs savers after random delays (seeded): at
// every moment the checkpoint path holds a complete old or new checkpoint.
func TestKillAtRandomMoments(t *testing.T) {
	const kills = 12
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	path := filepath.Join(dir, "LenetMnist0.ckpt")
	mustSave(t, path, sample(1, false))
	outcomes := map[int64]int{}
	for range kills {
		cmd := startSaver(t, path, "")
		time.Sleep(time.Duration(rng.IntN(30_000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		c, err := Load(path)
		if err != nil {
			t.Fatalf("after a kill: %v", err)
		}
		if s := c.GetGlobalStep(); s != 1 && s != 99 {
			t.Fatalf("after a kill: step %d, want 1 or 99", s)
		}
		outcomes[c.GetGlobalStep()]++
		if err := CleanTemp(dir); err != nil {
			t.Fatal(err)
		}
		for _, n := range dirNames(t, dir) {
			if n != filepath.Base(path) && !strings.HasPrefix(n, ".") {
				t.Fatalf("unexpected file %s", n)
			}
		}
		mustSave(t, path, sample(1, false)) // back to the old state for the next round
	}
	t.Logf("%d kills: path held the old checkpoint %d times, the new one %d times", kills, outcomes[1], outcomes[99])
}
