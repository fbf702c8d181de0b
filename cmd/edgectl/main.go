package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is edgectl's release, set at link time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		getenv:  os.Getenv,
		environ: os.Environ,
		version: version,
	})
	stop()
	os.Exit(code)
}
