package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// helperEnv selects a helper-process mode of the test binary: the dev down
// tests start the test binary itself as a stand-in for edged.
const helperEnv = "EDGECTL_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		// Commands run in-process against many test servers: no endpoint
		// choice is remembered between them.
		os.Setenv("EDGE_NO_ENDPOINT_MEMORY", "1")
		os.Exit(m.Run())
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
	case "leave-timeout":
		// Exit on SIGTERM as edged does when its leave timed out: the
		// error as the last log line, exit code 1.
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			logFile := os.Args[len(os.Args)-1] + ".log" // --data-dir DIR/<id>; the log is DIR/<id>.log
			f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				fmt.Fprintln(f, "edged: cluster: leave: timeout waiting for leave broadcast")
				f.Close()
			}
			os.Exit(1)
		}()
	}
	// Tell the parent the signal setup is done, then idle (bounded).
	fmt.Println("ready")
	time.Sleep(60 * time.Second)
	os.Exit(0)
}

// runCLI runs edgectl with args and the given environment variables.
func runCLI(t *testing.T, envVars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, args, env{
		stdout:  &out,
		stderr:  &errOut,
		getenv:  func(k string) string { return envVars[k] },
		environ: func() []string { return nil },
		version: "v0.0.0-test",
	})
	return out.String(), errOut.String(), code
}

// fakeNode is an httptest server speaking the cluster endpoints of edged.
type fakeNode struct {
	srv     *httptest.Server
	apiHits atomic.Int64
}

// newFakeNode starts a fake edged that answers for node id, requires token
// and waits delay before every response.
func newFakeNode(t *testing.T, id, token string, delay time.Duration, members []wire.Member, status wire.Status) *fakeNode {
	t.Helper()
	f := &fakeNode{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay) // simulated distance, not a wait for a condition
		}
		if r.URL.Path == "/healthz" {
			writeTestJSON(w, http.StatusOK, map[string]string{"status": "ok", "node_id": id, "version": "v1.2.3"})
			return
		}
		f.apiHits.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			writeTestEnvelope(w, http.StatusUnauthorized, false, nil, wire.Error{Code: 10000, Message: "Authentication error"})
			return
		}
		switch r.URL.Path {
		case "/client/v4/cluster/members":
			writeTestEnvelope(w, http.StatusOK, true, members)
		case "/client/v4/cluster/status":
			writeTestEnvelope(w, http.StatusOK, true, status)
		default:
			writeTestEnvelope(w, http.StatusNotFound, false, nil, wire.Error{Code: 7000, Message: "No route for that URI"})
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// deadEndpoint returns the URL of a server that has been shut down.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeTestEnvelope(w http.ResponseWriter, status int, ok bool, result any, errs ...wire.Error) {
	raw, _ := json.Marshal(result)
	if errs == nil {
		errs = []wire.Error{}
	}
	writeTestJSON(w, status, wire.Envelope{Success: ok, Errors: errs, Messages: []wire.Message{}, Result: raw})
}

// assertOneLineError checks the failure contract: exit 1, nothing on
// stdout, one "edgectl: " line on stderr.
func assertOneLineError(t *testing.T, stdout, stderr string, code int) {
	t.Helper()
	if code != 1 {
		t.Fatalf("exit code %d, want 1 (stderr %q)", code, stderr)
	}
	if !strings.HasPrefix(stderr, "edgectl: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Fatalf("stderr is not one 'edgectl: ' line: %q", stderr)
	}
	if stdout != "" {
		t.Fatalf("stdout not empty on error: %q", stdout)
	}
}
