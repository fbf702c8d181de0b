package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The fault suite runs real edged processes against broken storage: an
// unwritable or full directory, a data dir of another node, a truncated
// write-ahead log. Each must end in a clear outcome (a non-zero exit
// naming the path and the cause, or a start with a WARN and a metric),
// never a hang, a raw signal or a silent loss.

// lockedBuf collects a process's output; it is safe to read while the
// process writes.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// faultProc is an edged run by the fault suite: a proc whose output can be
// read while it runs and whose exit is awaited.
type faultProc struct {
	*proc
	out    *lockedBuf
	exited chan struct{}
	state  *os.ProcessState
}

func startFault(t *testing.T, bin string, p *proc, extra ...string) *faultProc {
	t.Helper()
	args := []string{"--node-id", p.id, "--region", p.region, "--data-dir", p.dir,
		"--http-addr", p.http, "--grpc-addr", p.grpc, "--raft-addr", p.raft, "--gossip-addr", p.gsp,
		"--admin-token", token, "--log-level", "warn"}
	args = append(args, extra...)
	fp := &faultProc{proc: p, out: &lockedBuf{}, exited: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(bin, "edged"), args...)
	p.cmd.Stdout, p.cmd.Stderr = fp.out, fp.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		fp.state = p.cmd.ProcessState
		close(fp.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-fp.exited:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-fp.exited
		}
	})
	return fp
}

// waitExit waits up to d for the process to exit and returns its code.
func (fp *faultProc) waitExit(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-fp.exited:
		return fp.state.ExitCode()
	case <-time.After(d):
		t.Fatalf("%s still running %v later; output:\n%s", fp.id, d, fp.out.String())
		return 0
	}
}

func (fp *faultProc) sigkill(t *testing.T) {
	t.Helper()
	_ = fp.cmd.Process.Signal(syscall.SIGKILL)
	<-fp.exited
}

// running reports whether the process has not exited.
func (fp *faultProc) running() bool {
	select {
	case <-fp.exited:
		return false
	default:
		return true
	}
}

// readyNode waits for a single node to lead and returns its account id.
func readyNode(t *testing.T, bin string, fp *faultProc) string {
	t.Helper()
	var st status
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		st, err = nodeStatus(bin, fp.url())
		if err == nil && st.Raft.State == "leader" && st.AccountID != "" {
			return st.AccountID
		}
		if !fp.running() || time.Now().After(deadline) {
			t.Fatalf("%s not ready (err %v); output:\n%s", fp.id, err, fp.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kvAPI is the KV part of one node's API.
type kvAPI struct {
	base string // .../storage/kv/namespaces
	hc   *http.Client
}

func newKVAPI(fp *faultProc, account string) kvAPI {
	return kvAPI{base: fp.url() + "/client/v4/accounts/" + account + "/storage/kv/namespaces",
		hc: &http.Client{Timeout: 10 * time.Second}}
}

func (k kvAPI) do(method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, k.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := k.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (k kvAPI) createNamespace(t *testing.T, title string) string {
	t.Helper()
	resp, env := httpDo(t, "POST", k.base, token, []byte(`{"title":"`+title+`"}`))
	if resp.StatusCode != 200 {
		t.Fatalf("create namespace %s: %d %v", title, resp.StatusCode, env)
	}
	return env["result"].(map[string]any)["id"].(string)
}

func (k kvAPI) put(ns, key string, val []byte) error {
	code, b, err := k.do("PUT", "/"+ns+"/values/"+key, val)
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("PUT %s: HTTP %d %s", key, code, b)
	}
	return nil
}

// checkReadable fails the test unless every key reads back its value.
func (k kvAPI) checkReadable(t *testing.T, ns string, acked map[string][]byte) {
	t.Helper()
	missing := 0
	for key, val := range acked {
		code, b, err := k.do("GET", "/"+ns+"/values/"+key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if code != 200 || !bytes.Equal(b, val) {
			missing++
			if missing <= 3 {
				t.Errorf("acknowledged %s: HTTP %d, %d bytes", key, code, len(b))
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes unreadable", missing, len(acked))
	}
}

// metricValue reads one sample of the node's /metrics, -1 when absent.
func metricValue(t *testing.T, fp *faultProc, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get(fp.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	want := name + "{" + labels + "} "
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// mountTmpfs mounts a tmpfs on dir (created) with the given options and
// unmounts it at the end; it skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs not permitted here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// dataEnd is the offset after the last non-zero byte of path (write-ahead
// logs are preallocated with zeros).
func dataEnd(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(bytes.TrimRight(b, "\x00")))
}

// newestFile is the lexically last file of dir with the suffix.
func newestFile(t *testing.T, dir, suffix string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no *%s in %s", suffix, dir)
	}
	return filepath.Join(dir, slices.Max(names))
}

func TestFaultUnwritableKVDirExitsWithThePath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "ro-kv", "us-east", "")
	kvDir := filepath.Join(p.dir, "kv")
	if os.Geteuid() == 0 {
		mountTmpfs(t, kvDir, "ro,size=1m")
	} else {
		if err := os.MkdirAll(kvDir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(kvDir, 0o700) })
	}
	start := time.Now()
	fp := startFault(t, bin, p)
	code := fp.waitExit(t, 10*time.Second)
	took := time.Since(start)
	out := fp.out.String()
	t.Logf("exit %d after %v: %s", code, took.Round(time.Millisecond), lastLines(out, 2))
	if code == 0 {
		t.Fatalf("exit code 0 on an unwritable kv dir")
	}
	if !strings.Contains(out, kvDir) {
		t.Fatalf("output does not name %s:\n%s", kvDir, out)
	}
	if n := strings.Count(out, "\n"); n > 50 {
		t.Fatalf("%d lines of output for one unwritable directory", n)
	}
}

func TestFaultDataDirOfAnotherNodeIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	a := newProc(t, "owner", "us-east", "")
	fa := startFault(t, bin, a)
	readyNode(t, bin, fa)
	_ = fa.cmd.Process.Signal(syscall.SIGTERM)
	if code := fa.waitExit(t, 20*time.Second); code != 0 {
		t.Fatalf("clean stop exited %d:\n%s", code, fa.out.String())
	}

	b := newProc(t, "intruder", "us-east", "")
	b.dir = a.dir
	fb := startFault(t, bin, b)
	code := fb.waitExit(t, 10*time.Second)
	out := fb.out.String()
	t.Logf("exit %d: %s", code, lastLines(out, 1))
	if code == 0 || !strings.Contains(out, `"owner"`) || !strings.Contains(out, `"intruder"`) {
		t.Fatalf("start on another node's data dir: exit %d, output:\n%s", code, out)
	}
}

func TestFaultTruncatedKVWALTail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "kv-wal", "us-east", "")
	fp := startFault(t, bin, p)
	k := newKVAPI(fp, readyNode(t, bin, fp))
	ns := k.createNamespace(t, "wal")
	acked := map[string][]byte{}
	const n = 30
	for i := range n {
		key, val := fmt.Sprintf("k%03d", i), []byte(strings.Repeat("v", 200)+strconv.Itoa(i))
		if err := k.put(ns, key, val); err != nil {
			t.Fatal(err)
		}
		acked[key] = val
	}
	fp.sigkill(t)
	wal := newestFile(t, filepath.Join(p.dir, "kv"), ".log")
	if err := os.Truncate(wal, dataEnd(t, wal)-7); err != nil {
		t.Fatal(err)
	}
	delete(acked, fmt.Sprintf("k%03d", n-1)) // the damaged record: the last write

	fp = startFault(t, bin, p)
	k = newKVAPI(fp, readyNode(t, bin, fp))
	out := fp.out.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, wal) {
		t.Fatalf("no WARN naming %s:\n%s", wal, out)
	}
	t.Logf("log: %s", grepLine(out, wal))
	if v := metricValue(t, fp, "edge_storage_wal_tail_repairs_total", `store="kv"`); v != 1 {
		t.Fatalf(`edge_storage_wal_tail_repairs_total{store="kv"} = %v, want 1`, v)
	}
	k.checkReadable(t, ns, acked)
}

func TestFaultTruncatedRaftWALTail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "raft-wal", "us-east", "")
	fp := startFault(t, bin, p)
	k := newKVAPI(fp, readyNode(t, bin, fp))
	ns := k.createNamespace(t, "kept")
	acked := map[string][]byte{}
	for i := range 10 {
		key, val := fmt.Sprintf("k%02d", i), []byte("value-"+strconv.Itoa(i))
		if err := k.put(ns, key, val); err != nil {
			t.Fatal(err)
		}
		acked[key] = val
	}
	// The last Raft entry: the one the cut damages.
	k.createNamespace(t, "last-entry")
	fp.sigkill(t)
	seg := newestFile(t, filepath.Join(p.dir, "raft", "wal"), ".wal")
	if err := os.Truncate(seg, dataEnd(t, seg)-10); err != nil {
		t.Fatal(err)
	}

	fp = startFault(t, bin, p)
	k = newKVAPI(fp, readyNode(t, bin, fp))
	out := fp.out.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, seg) {
		t.Fatalf("no WARN naming %s:\n%s", seg, out)
	}
	t.Logf("log: %s", grepLine(out, seg))
	if v := metricValue(t, fp, "edge_storage_wal_tail_repairs_total", `store="raft"`); v != 1 {
		t.Fatalf(`edge_storage_wal_tail_repairs_total{store="raft"} = %v, want 1`, v)
	}
	k.checkReadable(t, ns, acked)
}

func TestFaultDiskFullAtRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "disk-full", "us-east", "")
	kvDir := filepath.Join(p.dir, "kv")
	mountTmpfs(t, kvDir, "size=12m")
	fp := startFault(t, bin, p)
	account := readyNode(t, bin, fp)
	k := newKVAPI(fp, account)
	ns := k.createNamespace(t, "full")
	k.hc.Timeout = 30 * time.Second

	acked := map[string][]byte{}
	var failed error
	start := time.Now()
	for i := 0; i < 1000 && failed == nil; i++ {
		key := fmt.Sprintf("big%04d", i)
		val := bytes.Repeat([]byte{byte('a' + i%26)}, 256<<10)
		if err := k.put(ns, key, val); err != nil {
			failed = err
			break
		}
		acked[key] = val
	}
	if failed == nil {
		t.Fatal("250 MiB written to a 12 MiB file system without an error")
	}
	t.Logf("%d writes acknowledged, then: %v", len(acked), failed)
	sawNotReady := false
	deadline := time.Now().Add(20 * time.Second)
	for fp.running() && time.Now().Before(deadline) {
		if r, err := http.Get(fp.url() + "/readyz"); err == nil {
			if r.StatusCode != 200 {
				sawNotReady = true
			}
			r.Body.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	code := fp.waitExit(t, time.Second)
	out := fp.out.String()
	t.Logf("exit %d %v after the first failed write (not ready seen: %v): %s", code,
		time.Since(start).Round(time.Millisecond), sawNotReady, lastLines(out, 1))
	if code == 0 {
		t.Fatalf("exit 0 after a full disk:\n%s", out)
	}
	if !strings.Contains(out, "no space left on device") || !strings.Contains(out, kvDir) {
		t.Fatalf("output does not give the cause and the path %s:\n%s", kvDir, out)
	}

	// Move the data to a healthy disk and restart: every acknowledged
	// write is there.
	healthy := t.TempDir()
	if out, err := exec.Command("cp", "-a", kvDir+"/.", healthy).CombinedOutput(); err != nil {
		t.Fatalf("copy kv data: %v %s", err, out)
	}
	if err := exec.Command("umount", kvDir).Run(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", healthy+"/.", kvDir).CombinedOutput(); err != nil {
		t.Fatalf("copy kv data back: %v %s", err, out)
	}
	fp = startFault(t, bin, p)
	k = newKVAPI(fp, readyNode(t, bin, fp))
	k.checkReadable(t, ns, acked)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

func grepLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestFaultDamagedRaftMetaIsAnErrorNotASignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "raft-meta", "us-east", "")
	fp := startFault(t, bin, p)
	readyNode(t, bin, fp)
	fp.sigkill(t)
	meta := filepath.Join(p.dir, "raft", "wal", "wal-meta.db")
	// Keep the two meta pages and the freelist; the pages they point to
	// are gone, which made bolt's memory map fault (SIGBUS).
	if err := os.Truncate(meta, int64(3*os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	fp = startFault(t, bin, p)
	code := fp.waitExit(t, 10*time.Second)
	out := fp.out.String()
	t.Logf("exit %d: %s", code, lastLines(out, 1))
	if ws, ok := fp.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("killed by %v:\n%s", ws.Signal(), out)
	}
	if code != 1 || !strings.Contains(out, meta) || strings.Contains(out, "SIGBUS") || strings.Contains(out, "goroutine ") {
		t.Fatalf("damaged meta: exit %d, output:\n%s", code, out)
	}
}

func TestFaultFullKVDirAtStartExitsWithTheCause(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "full-kv", "us-east", "")
	kvDir := filepath.Join(p.dir, "kv")
	mountTmpfs(t, kvDir, "size=1m")
	// Fill it: the write fails once the file system is full.
	f, err := os.Create(filepath.Join(kvDir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(make([]byte, 2<<20))
	f.Close()
	fp := startFault(t, bin, p)
	code := fp.waitExit(t, 10*time.Second)
	out := fp.out.String()
	t.Logf("exit %d: %s", code, lastLines(out, 1))
	if code == 0 || !strings.Contains(out, kvDir) || !strings.Contains(out, "no space left on device") {
		t.Fatalf("start on a full kv dir: exit %d, output:\n%s", code, out)
	}
}

// TestFaultSIGTERMEndsEdgedWithinTheShutdownTimeout holds a request open
// (a body that never finishes) so the graceful stop cannot complete:
// SIGTERM still ends edged within --shutdown-timeout and a little more.
func TestFaultSIGTERMEndsEdgedWithinTheShutdownTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "sigterm", "us-east", "")
	fp := startFault(t, bin, p, "--shutdown-timeout", "1s")
	account := readyNode(t, bin, fp)
	ns := newKVAPI(fp, account).createNamespace(t, "slow")
	conn, err := net.Dial("tcp", p.http)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /client/v4/accounts/%s/storage/kv/namespaces/%s/values/k HTTP/1.1\r\nHost: %s\r\n"+
		"Authorization: Bearer %s\r\nContent-Length: 1000000\r\n\r\npartial", account, ns, p.http, token)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	_ = fp.cmd.Process.Signal(syscall.SIGTERM)
	code := fp.waitExit(t, 10*time.Second)
	took := time.Since(start)
	t.Logf("exit %d %v after SIGTERM: %s", code, took.Round(time.Millisecond), lastLines(fp.out.String(), 1))
	if took > 5*time.Second {
		t.Fatalf("SIGTERM took %v with --shutdown-timeout 1s", took)
	}
}
