package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/edgeplane/edgeplane/internal/testcluster"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	p, err := testcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// syncBuffer is a bytes.Buffer safe for the daemon and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSingleNodeGeneratesTokenServesAndStopsCleanly runs edged as main
// does, with no admin token: it generates one (mode 0600, its path printed, not the token),
// serves /healthz and an authenticated status, and exits nil on cancel.
func TestSingleNodeGeneratesTokenServesAndStopsCleanly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	httpAddr := freeAddr(t)
	args := []string{"--node-id", "solo", "--data-dir", dir, "--http-addr", httpAddr,
		"--grpc-addr", freeAddr(t), "--raft-addr", freeAddr(t), "--gossip-addr", freeAddr(t), "--log-level", "error"}
	none := func(string) string { return "" }

	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, none, &out, io.Discard) }()

	tokenFile := filepath.Join(dir, "admin-token")
	var token string
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(tokenFile)
		if err == nil && len(b) > 0 {
			token = strings.TrimSpace(string(b))
		}
		if token != "" && ready(httpAddr) {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("single node not ready; output:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	// The token is never printed, only where it is.
	if strings.Contains(out.String(), token) || !strings.Contains(out.String(), tokenFile) {
		t.Fatalf("output shows the token or not its file:\n%s", out.String())
	}
	req, _ := http.NewRequest("GET", "http://"+httpAddr+"/client/v4/cluster/status", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status with generated token: %v %v", resp, err)
	}
	resp.Body.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("edged did not stop after cancel")
	}

	// A second start reuses the stored token and does not print it.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out2 syncBuffer
	go func() { done <- run(ctx2, args, none, &out2, io.Discard) }()
	deadline = time.Now().Add(20 * time.Second)
	for !ready(httpAddr) {
		if time.Now().After(deadline) {
			cancel2()
			t.Fatalf("restart not ready:\n%s", out2.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel2()
	if err := <-done; err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	if strings.Contains(out2.String(), token) {
		t.Fatal("stored token printed again")
	}
}

func ready(addr string) bool {
	resp, err := http.Get(fmt.Sprintf("http://%s/readyz", addr))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}
