package node

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

// A storage fault makes the node report not ready at once, with the
// cause, and calls OnFatal exactly once.
func TestStorageFaultMakesNodeNotReady(t *testing.T) {
	cfg := localConfig(t.TempDir())
	told := make(chan error, 4)
	cfg.OnFatal = func(err error) { told <- err }
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Kill()
	readyz := func() (int, string) {
		rec := httptest.NewRecorder()
		n.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	deadline := time.Now().Add(20 * time.Second)
	for code, _ := readyz(); code != http.StatusOK; code, _ = readyz() {
		if time.Now().After(deadline) {
			t.Fatal("node never ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fault := &storage.FatalError{Path: "/data/kv", Cause: errors.New("no space left on device")}
	n.fatal(fault)
	n.fatal(errors.New("a second fault"))
	if code, body := readyz(); code == http.StatusOK || !strings.Contains(body, "no space left") {
		t.Fatalf("after a fault /readyz = %d %s", code, body)
	}
	select {
	case err := <-told:
		if !errors.Is(err, fault) {
			t.Fatalf("OnFatal got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnFatal not called")
	}
	select {
	case err := <-told:
		t.Fatalf("OnFatal called twice (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestNodeRefusesAnotherNodesDataDir(t *testing.T) {
	dir := t.TempDir()
	n, err := New(localConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	n.Kill()
	cfg := localConfig(dir)
	cfg.NodeID = "other"
	if _, err := New(cfg); !errors.Is(err, storage.ErrWrongNode) {
		t.Fatalf("start as another node: %v, want ErrWrongNode", err)
	}
}
