//go:build unix

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// pollInterval is how often process and readiness checks are repeated.
const pollInterval = 100 * time.Millisecond

// killWait bounds the wait for a SIGKILLed process to disappear.
const killWait = 5 * time.Second

// startedProc is an edged process started by this edgectl.
type startedProc struct {
	pid int
	// exited is closed once the process has exited; err holds why.
	exited chan struct{}
	err    error
}

// startProcess starts path with n's argv and environment, detached in its
// own process group (so a terminal's Ctrl-C does not reach it once dev up
// is done), stdin from /dev/null and stdout and stderr appended to
// n.LogFile. It creates n.DataDir.
func startProcess(path string, n devNode) (*startedProc, error) {
	if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", n.ID, err)
	}
	logf, err := os.OpenFile(n.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", n.ID, err)
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(path, n.Args...)
	cmd.Env = n.Env
	cmd.Dir = filepath.Dir(n.DataDir)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", n.ID, err)
	}
	p := &startedProc{pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// processAlive reports whether pid runs and, where /proc can tell, whether
// one of its arguments (not the first) is marker (a node's data dir). The marker guards
// against a pid the kernel has since given to an unrelated process; a
// zombie has an empty command line and counts as gone.
func processAlive(pid int, marker string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		if _, serr := os.Stat("/proc/self"); serr == nil {
			return false // /proc works, so the process is gone
		}
		return true // no /proc here: trust the signal check
	}
	if marker == "" {
		return len(cmdline) > 0
	}
	// Arguments are NUL-terminated: match a whole argument, so node-1's
	// data dir does not match node-10's.
	return bytes.Contains(cmdline, []byte("\x00"+marker+"\x00"))
}

// stopOutcome is what happened to one node on stop.
type stopOutcome struct {
	ID     string `json:"id"`
	PID    int    `json:"pid"`
	Result string `json:"result"` // stopped, unclean, killed, not running, or still running
	// Detail is the log line that made a stop unclean.
	Detail string `json:"detail,omitempty"`
}

// Results of stopOutcome.
const (
	stopStopped    = "stopped"
	stopUnclean    = "unclean" // exited, but did not leave the cluster cleanly (see Detail)
	stopKilled     = "killed"
	stopNotRunning = "not running"
	stopStillAlive = "still running"
)

// stopNodes stops the live nodes one after another, last started first
// (the first node usually leads: it hands leadership over once), so each
// leaves while its peers still answer; SIGTERM'd all at once, they wait
// for each other's goodbyes and time out. Each node gets up to grace to
// exit; then the remaining ones get SIGKILL and up to killWait. A node
// whose log shows it exited with an error (edged prints "edged: <error>"
// last) is reported unclean with that line. The error names any process
// that survived.
func stopNodes(nodes []devStateNode, grace time.Duration) ([]stopOutcome, error) {
	out := make([]stopOutcome, len(nodes))
	pending := map[int]bool{}
	logFrom := make([]int64, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		out[i] = stopOutcome{ID: n.ID, PID: n.PID, Result: stopNotRunning}
		if !processAlive(n.PID, n.DataDir) {
			continue
		}
		logFrom[i] = logSize(n.LogFile)
		if err := syscall.Kill(n.PID, syscall.SIGTERM); err != nil {
			continue // gone in between
		}
		out[i].Result = stopStopped
		pending[i] = true
		waitGone(nodes, map[int]bool{i: true}, grace)
	}
	waitGone(nodes, pending, 0)
	for i := range out {
		if out[i].Result == stopStopped && !pending[i] {
			if line := exitError(nodes[i].LogFile, logFrom[i]); line != "" {
				out[i].Result, out[i].Detail = stopUnclean, line
			}
		}
	}
	for i := range pending {
		_ = syscall.Kill(nodes[i].PID, syscall.SIGKILL)
		out[i].Result = stopKilled
	}
	waitGone(nodes, pending, killWait)
	var errs []error
	for i := range pending {
		out[i].Result = stopStillAlive
		errs = append(errs, fmt.Errorf("%s (pid %d) still running", nodes[i].ID, nodes[i].PID))
	}
	return out, errors.Join(errs...)
}

// waitGone polls until every pending node has exited or d has passed,
// removing exited ones from pending.
func waitGone(nodes []devStateNode, pending map[int]bool, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		for i := range pending {
			if !processAlive(nodes[i].PID, nodes[i].DataDir) {
				delete(pending, i)
			}
		}
		if len(pending) == 0 || !time.Now().Before(deadline) {
			return
		}
		time.Sleep(pollInterval)
	}
}
