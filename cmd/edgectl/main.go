package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeplane/edgeplane/pkg/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		getenv:  os.Getenv,
		environ: os.Environ,
		// Stamped by the Makefile: -X github.com/edgeplane/edgeplane/pkg/version.Version=...
		version: version.Version,
	})
	stop()
	os.Exit(code)
}
