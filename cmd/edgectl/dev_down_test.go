package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// startHelper starts the test binary as a stand-in edged for node id in
// dir (mode "sleep" or "ignore-term") and waits until it has set up its
// signal handling. The process is reaped in the background and killed, by
// its pid, when the test ends.
func startHelper(t *testing.T, dir, id, mode string) devStateNode {
	t.Helper()
	dataDir := filepath.Join(dir, id)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, id+".log")
	if err := os.WriteFile(logFile, []byte("log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "--data-dir", dataDir)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("helper did not start: %q %v", line, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return devStateNode{ID: id, PID: cmd.Process.Pid, Endpoint: "http://127.0.0.1:1", DataDir: dataDir, LogFile: logFile}
}

// waitDead polls until pid is gone (reaped) or fails the test.
func waitDead(t *testing.T, n devStateNode) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(n.PID, n.DataDir) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) still alive", n.ID, n.PID)
		}
		time.Sleep(pollInterval)
	}
}

func TestDevDownStopsAndPurges(t *testing.T) {
	dir := t.TempDir()
	n1 := startHelper(t, dir, "node-1", "sleep")
	n2 := startHelper(t, dir, "node-2", "sleep")
	if !processAlive(n1.PID, n1.DataDir) || processAlive(n1.PID, n2.DataDir) {
		t.Fatal("processAlive does not tell the helper by its data dir")
	}
	if err := writeState(dir, devState{Version: devStateVersion, Dir: dir, Token: "t", Nodes: []devStateNode{n1, n2}}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, nil, "dev", "down", "--dir", dir, "--purge", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var res devDownResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, stdout)
	}
	if len(res.Nodes) != 2 || res.Nodes[0].Result != stopStopped || res.Nodes[1].Result != stopStopped || !res.Purged {
		t.Fatalf("result %+v", res)
	}
	waitDead(t, n1)
	waitDead(t, n2)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("purge left %s behind: %v", dir, err)
	}
}

func TestDevDownKeepsDataWithoutPurge(t *testing.T) {
	dir := t.TempDir()
	n1 := startHelper(t, dir, "node-1", "sleep")
	if err := writeState(dir, devState{Version: devStateVersion, Dir: dir, Nodes: []devStateNode{n1}}); err != nil {
		t.Fatal(err)
	}
	stdout, _, code := runCLI(t, nil, "dev", "down", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "node-1") || !strings.Contains(stdout, "stopped") {
		t.Fatalf("exit %d stdout:\n%s", code, stdout)
	}
	if _, err := os.Stat(n1.DataDir); err != nil {
		t.Fatalf("data dir removed without --purge: %v", err)
	}
	if _, err := os.Stat(statePath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cluster.json left behind: %v", err)
	}
	// A second down finds nothing to stop.
	stdout, stderr, code := runCLI(t, nil, "dev", "down", "--dir", dir)
	assertOneLineError(t, stdout, stderr, code)
}

func TestStopNodesKillsAfterGrace(t *testing.T) {
	dir := t.TempDir()
	n := startHelper(t, dir, "node-1", "ignore-term")
	gone := devStateNode{ID: "node-2", PID: n.PID, DataDir: filepath.Join(dir, "node-2")} // wrong marker: not ours
	out, err := stopNodes([]devStateNode{n, gone}, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Result != stopKilled || out[1].Result != stopNotRunning {
		t.Fatalf("outcomes %+v, want killed and not running", out)
	}
	waitDead(t, n)
}

func TestDevUpRefusesWhileRunning(t *testing.T) {
	dir := t.TempDir()
	n1 := startHelper(t, dir, "node-1", "sleep")
	if err := writeState(dir, devState{Version: devStateVersion, Dir: dir, Nodes: []devStateNode{n1}}); err != nil {
		t.Fatal(err)
	}
	err := checkNotRunning(dir)
	if err == nil || !strings.Contains(err.Error(), "already runs") || !strings.Contains(err.Error(), "dev down --dir") {
		t.Fatalf("checkNotRunning = %v, want a refusal naming dev down", err)
	}
	// The same through the command line, which refuses before looking for edged.
	stdout, stderr, code := runCLI(t, nil, "dev", "up", "--dir", dir, "--edged", os.Args[0])
	assertOneLineError(t, stdout, stderr, code)
	if !strings.Contains(stderr, "already runs") {
		t.Fatalf("stderr %q", stderr)
	}
	// A state file whose processes are gone does not block a new cluster.
	stale := devStateNode{ID: "node-1", PID: n1.PID, DataDir: filepath.Join(dir, "elsewhere")}
	if err := writeState(dir, devState{Version: devStateVersion, Dir: dir, Nodes: []devStateNode{stale}}); err != nil {
		t.Fatal(err)
	}
	if err := checkNotRunning(dir); err != nil {
		t.Fatalf("stale state refused: %v", err)
	}
}

func TestStateRoundTripIsPrivate(t *testing.T) {
	dir := t.TempDir()
	want := devState{Version: devStateVersion, Dir: dir, Edged: "/bin/edged", Token: "secret",
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Nodes:   []devStateNode{{ID: "node-1", Region: "r", PID: 42, Endpoint: "http://127.0.0.1:8787"}}}
	if err := writeState(dir, want); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(statePath(dir))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, %v; want 0600", info.Mode(), err)
	}
	got, err := readState(dir)
	if err != nil || got.Token != "secret" || got.Nodes[0].PID != 42 || !got.Started.Equal(want.Started) {
		t.Fatalf("readState = %+v, %v", got, err)
	}
	if _, err := readState(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing state: %v, want ErrNotExist", err)
	}
}

func TestInside(t *testing.T) {
	for p, want := range map[string]bool{"/d/node-1": true, "/d/a/b": true, "/d": false, "/x/node-1": false, "/d/../e": false} {
		if got := inside("/d", p); got != want {
			t.Errorf("inside(/d, %s) = %v, want %v", p, got, want)
		}
	}
}

func TestWaitFor(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && calls.Add(1) < 3 {
			writeTestJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "no leader"})
			return
		}
		writeTestJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	running := &startedProc{exited: make(chan struct{})}
	if err := waitFor(ctx, srv.URL, (*client.Client).Healthz, running); err != nil || calls.Load() != 0 {
		t.Fatalf("waitFor healthz: %v (%d readyz calls)", err, calls.Load())
	}
	if err := waitFor(ctx, srv.URL, (*client.Client).Ready, running); err != nil {
		t.Fatalf("waitFor readyz: %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d probes, want 3", calls.Load())
	}

	exited := &startedProc{exited: make(chan struct{}), err: errors.New("exit status 2")}
	close(exited.exited)
	err := waitFor(ctx, deadEndpoint(t), (*client.Client).Ready, exited)
	if err == nil || !strings.Contains(err.Error(), "exit status 2") {
		t.Fatalf("waitFor on an exited process = %v", err)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	err = waitFor(short, deadEndpoint(t), (*client.Client).Ready, running)
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("waitFor past its deadline = %v", err)
	}
}

func TestFindEdged(t *testing.T) {
	if _, err := findEdged(filepath.Join(t.TempDir(), "no-such-edged")); err == nil {
		t.Fatal("findEdged accepted a missing path")
	}
	p, err := findEdged(os.Args[0])
	if err != nil || !filepath.IsAbs(p) {
		t.Fatalf("findEdged(test binary) = %q, %v", p, err)
	}
}

func TestExitErrorFindsTheExitLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.log")
	before := "time=x level=ERROR msg=\"old error\"\n"
	during := "time=y level=INFO msg=\"shutting down\"\ntime=z level=WARN msg=\"could not announce leaving\"\n" +
		"edged: cluster: leave: timeout waiting for leave broadcast\n"
	if err := os.WriteFile(path, []byte(before+during), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := exitError(path, int64(len(before))); got != "edged: cluster: leave: timeout waiting for leave broadcast" {
		t.Fatalf("exitError = %q", got)
	}
	clean := "time=y level=INFO msg=stopped\n"
	if err := os.WriteFile(path, []byte(before+clean), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := exitError(path, int64(len(before))); got != "" {
		t.Fatalf("clean stop reported %q (an ERROR from before the stop counts)", got)
	}
	if got := exitError(filepath.Join(t.TempDir(), "none.log"), 0); got != "" {
		t.Fatalf("missing log: %q", got)
	}
}

func TestDevDownReportsUncleanLeave(t *testing.T) {
	dir := t.TempDir()
	clean := startHelper(t, dir, "node-1", "sleep")
	unclean := startHelper(t, dir, "node-2", "leave-timeout")
	out, err := stopNodes([]devStateNode{clean, unclean}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Result != stopStopped || out[0].Detail != "" {
		t.Fatalf("clean node: %+v", out[0])
	}
	if out[1].Result != stopUnclean || !strings.Contains(out[1].Detail, "leave: timeout") {
		t.Fatalf("node whose leave timed out: %+v, want unclean with the log line", out[1])
	}
}
