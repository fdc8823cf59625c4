//go:build unix

package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// markerPrefix starts the test-only marker lines a child prints on stderr
// when TBTRAIN_TEST_MARKERS=1 (see doc.go).
const markerPrefix = "tbtrain-test: "

// child is one running cmd/train process whose output is captured.
type child struct {
	cmd   *exec.Cmd
	start time.Time

	mu      sync.Mutex
	out     strings.Builder // stdout and stderr, interleaved by line
	markers []string        // marker lines, without markerPrefix
	notify  chan struct{}   // closed and replaced whenever a marker arrives

	done    chan struct{} // closed when the process has exited and output is drained
	waitErr error
	killed  syscall.Signal // signal sent by the test, 0 if none
}

// startChild starts bin with args and the extra environment entries env.
// cred, if not nil, runs the child as another user.
func startChild(bin string, args, env []string, cred *syscall.Credential) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, notify: make(chan struct{}), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	c.start = time.Now()
	var wg sync.WaitGroup
	wg.Add(2)
	go c.scan(&wg, stdout, "")
	go c.scan(&wg, stderr, "stderr: ")
	go func() {
		wg.Wait() // pipes must be drained before Wait
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) scan(wg *sync.WaitGroup, r io.Reader, prefix string) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	// Progress bars redraw with \r; treat it as a line break too.
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		for i, b := range data {
			if b == '\n' || b == '\r' {
				return i + 1, data[:i], nil
			}
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		c.mu.Lock()
		c.out.WriteString(prefix)
		c.out.WriteString(line)
		c.out.WriteByte('\n')
		if m, ok := strings.CutPrefix(line, markerPrefix); ok {
			c.markers = append(c.markers, m)
			close(c.notify)
			c.notify = make(chan struct{})
		}
		c.mu.Unlock()
	}
	// Keep draining if the scanner gave up (over-long line) so the child never blocks.
	_, _ = io.Copy(io.Discard, r)
}

// output returns everything the child printed so far.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// markersSince returns the markers from index i on, and a channel closed when
// the next marker arrives.
func (c *child) markersSince(i int) ([]string, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.markers[min(i, len(c.markers)):]...), c.notify
}

// waitMarker waits until a marker with the given prefix arrives (after the
// first `from` markers), the child exits, or the timeout passes. It returns
// the marker and the index after it.
func (c *child) waitMarker(from int, prefix string, timeout time.Duration) (string, int, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ms, notify := c.markersSince(from)
		for i, m := range ms {
			if strings.HasPrefix(m, prefix) {
				return m, from + i + 1, true
			}
		}
		from += len(ms)
		select {
		case <-notify:
		case <-c.done:
			ms, _ := c.markersSince(from)
			for i, m := range ms {
				if strings.HasPrefix(m, prefix) {
					return m, from + i + 1, true
				}
			}
			return "", from + len(ms), false
		case <-deadline.C:
			return "", from, false
		}
	}
}

// signal sends sig unless the child has already exited. It reports whether
// the signal was sent to a live process.
func (c *child) signal(sig syscall.Signal) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	if err := c.cmd.Process.Signal(sig); err != nil {
		return false
	}
	c.mu.Lock()
	c.killed = sig
	c.mu.Unlock()
	return true
}

// wait waits for the child to exit, at most timeout; on timeout it kills the
// child and returns an error.
func (c *child) wait(timeout time.Duration) error {
	select {
	case <-c.done:
		return c.waitErr
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("child did not exit within %v (killed); output:\n%s", timeout, c.output())
	}
}

// exitStatus describes how a finished child ended.
type exitStatus struct {
	code   int            // exit code, -1 if killed by a signal
	signal syscall.Signal // the signal that killed it, if any
}

func statusOf(err error) (exitStatus, error) {
	if err == nil {
		return exitStatus{}, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return exitStatus{}, err
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok {
		return exitStatus{}, err
	}
	if ws.Signaled() {
		return exitStatus{code: -1, signal: ws.Signal()}, nil
	}
	return exitStatus{code: ws.ExitStatus()}, nil
}

// tail returns at most the last n lines of s, for failure messages.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines omitted)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// openWindow reports whether the markers leave a commit or a flush open
// (a "-begin" without its "-end").
func openWindow(markers []string) (commit, flush bool) {
	for _, m := range markers {
		switch {
		case strings.HasPrefix(m, "commit-begin"):
			commit = true
		case strings.HasPrefix(m, "commit-end"):
			commit = false
		case strings.HasPrefix(m, "flush-begin"):
			flush = true
		case strings.HasPrefix(m, "flush-end"):
			flush = false
		}
	}
	return commit, flush
}
