// Command edged is the Edgeplane daemon: one node of the cluster. With no
// flags it is a complete single-node cluster on 127.0.0.1 whose data lives
// in ./edged-data. See README.md for flags and a multi-region walkthrough.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeplane/edgeplane/pkg/node"
	"github.com/edgeplane/edgeplane/pkg/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "edged: %v\n", err)
		os.Exit(1)
	}
}

// run is edged from flags to exit: parse, start the node, print how to
// reach it, wait until ctx ends (a signal), leave gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	if opts.showVersion {
		fmt.Fprintf(stdout, "edged %s\n", version.Version)
		return nil
	}
	log, err := newLogger(stderr, opts.logLevel, opts.logFormat)
	if err != nil {
		return err
	}
	if err := applyGCPercent(opts, getenv, log); err != nil {
		return err
	}
	cfg, err := opts.nodeConfig()
	if err != nil {
		return err
	}
	cfg.Version = version.Version
	cfg.Logger = log
	if err := checkSecure(cfg, opts.insecure, log); err != nil {
		return err
	}
	faults := make(chan error, 1)
	cfg.OnFatal = func(err error) {
		select {
		case faults <- err:
		default:
		}
	}

	stopPprof, err := startPprof(ctx, opts.pprofAddr, log)
	if err != nil {
		return err
	}
	defer stopPprof()
	n, err := startNode(ctx, cfg, faults, opts.shutdownTimeout, log)
	if err != nil {
		return err
	}
	defer watchReload(n, log)()
	printWelcome(stdout, n, cfg)
	select {
	case <-ctx.Done():
		log.Info("signal received, leaving the cluster")
		return stopNode(n, opts.shutdownTimeout, log)
	case err := <-faults:
		return stopOnFault(n, err, log)
	}
}

func printWelcome(w io.Writer, n *node.Node, cfg node.Config) {
	addrs := n.Addr()
	_, generated := n.AdminToken()
	fmt.Fprintf(w, "edged %s: node %s in region %s\n", cfg.Version, cfg.NodeID, cfg.Region)
	scheme := n.HTTPScheme()
	fmt.Fprintf(w, "  API:     %s://%s/client/v4  (metrics: %s://%s/metrics)\n", scheme, addrs.HTTP, scheme, addrs.HTTP)
	fmt.Fprintf(w, "  gossip:  %s   grpc: %s   raft: %s\n", addrs.Gossip, addrs.GRPC, addrs.Raft)
	// The token itself is never printed or logged: terminals and log
	// collectors keep what they are shown.
	switch {
	case generated:
		fmt.Fprintf(w, "  admin token: generated, written to %s (mode 0600)\n", n.AdminTokenFile())
	case cfg.AdminToken != "":
		fmt.Fprintf(w, "  admin token: as configured (--admin-token)\n")
	default:
		fmt.Fprintf(w, "  admin token: in %s\n", n.AdminTokenFile())
	}
	if n.TLSEnabled() {
		fmt.Fprintf(w, "  tls:     mutual TLS between members; CA %s\n", cfg.TLS.CAFile)
	}
	caHint := ""
	if scheme == "https" {
		caHint = " --ca-cert " + cfg.TLS.CAFile
	}
	tokenArg := fmt.Sprintf(`"$(cat %s)"`, n.AdminTokenFile())
	if cfg.AdminToken != "" {
		tokenArg = "<admin token>"
	}
	fmt.Fprintf(w, "  try:     edgectl --endpoint %s://%s%s --token %s status\n", scheme, addrs.HTTP, caHint, tokenArg)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}
