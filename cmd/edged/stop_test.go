package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/node"
)

// hungNode never finishes its shutdown, as a node whose disk stopped
// answering.
type hungNode struct{}

func (hungNode) Shutdown(context.Context) error { select {} }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestStopGivesUpAfterTheTimeout(t *testing.T) {
	start := time.Now()
	err := stopNode(hungNode{}, 200*time.Millisecond, quiet)
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("stop of a hung node: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("took %v", took)
	}
}

func TestSecondSignalEndsTheStop(t *testing.T) {
	done := make(chan error, 1)
	go func() { done <- stopNode(hungNode{}, time.Minute, quiet) }()
	time.Sleep(200 * time.Millisecond) // let stopNode install its handler
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "second") {
			t.Fatalf("second signal: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second SIGTERM did not end the stop")
	}
}

func TestStopOnFaultReturnsTheFault(t *testing.T) {
	fault := errors.New("storage fault at /d/kv: no space left on device")
	start := time.Now()
	err := stopOnFault(hungNode{}, fault, quiet)
	if !errors.Is(err, fault) {
		t.Fatalf("got %v", err)
	}
	if took := time.Since(start); took > faultStopGrace+2*time.Second {
		t.Fatalf("took %v", took)
	}
}

func TestHungStartDoesNotHoldTheProcess(t *testing.T) {
	old := newNode
	defer func() { newNode = old }()
	newNode = func(node.Config) (*node.Node, error) { select {} }

	ctx, cancel := context.WithCancel(context.Background())
	faults := make(chan error, 1)
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err := startNode(ctx, node.Config{}, faults, 200*time.Millisecond, quiet)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("signal during a hung start: %v", err)
	}

	faults <- errors.New("storage fault at /d/kv: read-only file system")
	_, err = startNode(context.Background(), node.Config{}, faults, time.Second, quiet)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("fault during a hung start: %v", err)
	}
}
