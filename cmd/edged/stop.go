package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgeplane/edgeplane/pkg/node"
)

// defaultShutdownTimeout bounds a graceful stop; `edgectl dev down` and
// systemd's TimeoutStopSec wait longer before SIGKILL.
const defaultShutdownTimeout = 10 * time.Second

// faultStopGrace bounds the clean-up after a storage fault: the node's
// storage may be wedged, so the process exits after this whatever hangs.
const faultStopGrace = 5 * time.Second

// shutdowner is the part of *node.Node the stop paths use.
type shutdowner interface {
	Shutdown(context.Context) error
}

// newNode starts a node (tests replace it).
var newNode = node.New

// startNode starts the node without letting a hung start hold the process:
// a signal or a storage fault during the start ends the wait. A start that
// finishes after the signal is stopped again.
func startNode(ctx context.Context, cfg node.Config, faults <-chan error, timeout time.Duration, log *slog.Logger) (*node.Node, error) {
	type result struct {
		n   *node.Node
		err error
	}
	done := make(chan result, 1)
	start := newNode
	go func() {
		n, err := start(cfg)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return r.n, r.err
	case err := <-faults:
		return nil, fmt.Errorf("fatal fault during start: %w", err)
	case <-ctx.Done():
		log.Info("signal received during start")
		select {
		case r := <-done:
			if r.err != nil {
				return nil, r.err
			}
			return nil, stopNode(r.n, timeout, log)
		case <-time.After(timeout):
			return nil, fmt.Errorf("interrupted: start did not finish within %v, exiting anyway", timeout)
		}
	}
}

// stopNode leaves the cluster gracefully within timeout. Past it, or on a
// second SIGINT/SIGTERM, it gives up and returns an error: main then exits
// with whatever is still running, so SIGTERM always ends the process.
func stopNode(n shutdowner, timeout time.Duration, log *slog.Logger) error {
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Shutdown(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout + time.Second):
		log.Error("graceful shutdown did not finish in time; exiting anyway", "timeout", timeout)
		return fmt.Errorf("shutdown did not finish within %v; exited anyway", timeout)
	case s := <-again:
		log.Warn("second signal: exiting without finishing the shutdown", "signal", s.String())
		return fmt.Errorf("shutdown interrupted by a second %v", s)
	}
}

// stopOnFault stops a node whose storage failed: it no longer reports
// ready (node.Fault), leaves gossip if it can within faultStopGrace and
// returns the fault, which main prints before exiting non-zero.
func stopOnFault(n shutdowner, fault error, log *slog.Logger) error {
	log.Error("fatal fault: stopping the node", "err", fault)
	ctx, cancel := context.WithTimeout(context.Background(), faultStopGrace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			log.Warn("stop after a fatal fault", "err", err)
		}
	case <-time.After(faultStopGrace):
		log.Warn("stop after a fatal fault did not finish; exiting anyway", "grace", faultStopGrace)
	}
	return fmt.Errorf("stopped on a fatal fault: %w", fault)
}
