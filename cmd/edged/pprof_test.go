package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestPprofServesAndStops: --pprof-addr serves the profile index on its
// own listener and frees the port when the context ends; empty serves
// nothing.
func TestPprofServesAndStops(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stop, err := startPprof(ctx, addr, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("pprof index: %d %.200s", resp.StatusCode, body)
	}
	cancel()
	stop()
	if _, err := http.Get("http://" + addr + "/debug/pprof/"); err == nil {
		t.Fatal("pprof still serving after cancel")
	}
	log := slog.New(slog.DiscardHandler)
	again, err := startPprof(context.Background(), addr, log)
	if err != nil {
		t.Fatalf("port not freed: %v", err)
	}
	again()
	none, err := startPprof(context.Background(), "", log)
	if err != nil {
		t.Fatal(err)
	}
	none()
}
