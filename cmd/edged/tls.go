package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/edgeplane/edgeplane/pkg/node"
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
)

// tlsOptions are edged's transport security settings.
type tlsOptions struct {
	tlsDir   string
	tlsCA    string
	tlsCert  string
	tlsKey   string
	httpTLS  bool
	insecure bool
}

func addTLSFlags(fs *flag.FlagSet, o *tlsOptions) {
	fs.StringVar(&o.tlsCA, "tls-ca", "", "cluster CA bundle (PEM); with --tls-cert and --tls-key turns on mutual TLS for gRPC and Raft, and HTTPS")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "this node's certificate from the cluster CA (edgectl tls cert create)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "key of --tls-cert")
	fs.StringVar(&o.tlsDir, "tls-dir", "", "directory holding ca.crt, <node-id>.crt and <node-id>.key (instead of the three --tls-* files)")
	fs.BoolVar(&o.httpTLS, "http-tls", true, "serve the public API over HTTPS when TLS is configured (false: plain HTTP behind a TLS proxy)")
	fs.BoolVar(&o.insecure, "insecure", false, "allow listening beyond loopback without TLS or a gossip key (warns on every start)")
}

// apply sets the node's TLS configuration.
func (o *tlsOptions) apply(cfg *node.Config) error {
	ca, cert, key := o.tlsCA, o.tlsCert, o.tlsKey
	if o.tlsDir != "" {
		dca, dcert, dkey := tlsutil.NodeFiles(o.tlsDir, cfg.NodeID)
		ca, cert, key = or(ca, dca), or(cert, dcert), or(key, dkey)
	}
	given := 0
	for _, f := range []string{ca, cert, key} {
		if f != "" {
			given++
		}
	}
	if given != 0 && given != 3 {
		return errors.New("--tls-ca, --tls-cert and --tls-key go together (or --tls-dir)")
	}
	cfg.TLS = node.TLSConfig{CAFile: ca, CertFile: cert, KeyFile: key, PlainHTTP: !o.httpTLS}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// isLoopback reports whether a listen address binds loopback only. An
// empty host (all interfaces) and host names other than localhost count as
// reaching beyond the machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSecure enforces secure by default: a node with any listener beyond
// loopback needs mutual TLS and a gossip key, unless --insecure, which then
// warns on every start.
func checkSecure(cfg node.Config, insecure bool, log *slog.Logger) error {
	var exposed []string
	for _, l := range []struct{ name, addr string }{
		{"--http-addr", cfg.HTTPAddr}, {"--grpc-addr", cfg.GRPCAddr}, {"--raft-addr", cfg.RaftAddr}, {"--gossip-addr", cfg.GossipAddr},
	} {
		if !isLoopback(l.addr) {
			exposed = append(exposed, l.name+" "+l.addr)
		}
	}
	var missing []string
	if !cfg.TLS.Enabled() {
		missing = append(missing, "TLS (--tls-ca, --tls-cert, --tls-key)")
	}
	if len(cfg.GossipKey) == 0 {
		missing = append(missing, "a gossip key (--gossip-key)")
	}
	if len(exposed) == 0 || len(missing) == 0 {
		if len(exposed) > 0 && cfg.TLS.PlainHTTP && !isLoopback(cfg.HTTPAddr) {
			log.Warn("the public API is plain HTTP beyond loopback (--http-tls=false): put a TLS proxy in front", "http", cfg.HTTPAddr)
		}
		return nil
	}
	if !insecure {
		return fmt.Errorf("listening beyond loopback (%s) needs %s; create them with `edgectl tls` (see docs/security.md), or pass --insecure to run without",
			strings.Join(exposed, ", "), strings.Join(missing, " and "))
	}
	log.Warn("INSECURE: listening beyond loopback without "+strings.Join(missing, " and ")+
		": anyone reaching these ports can join the cluster, call internal RPCs and send Raft traffic",
		"listeners", strings.Join(exposed, ", "))
	return nil
}

// reloader is what SIGHUP needs from the node.
type reloader interface {
	TLSEnabled() bool
	ReloadTLS() (serial string, err error)
}

// watchReload reloads the node's certificates on every SIGHUP (logging
// the outcome) until the returned stop is called.
func watchReload(n reloader, log *slog.Logger) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				reloadOnce(n, log)
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		cancel()
		<-done
	}
}

func reloadOnce(n reloader, log *slog.Logger) {
	if !n.TLSEnabled() {
		log.Warn("SIGHUP: TLS is not configured, nothing to reload")
		return
	}
	serial, err := n.ReloadTLS()
	if err != nil {
		log.Error("SIGHUP: TLS reload failed, keeping the current certificate", "err", err, "cert_serial", serial)
		return
	}
	log.Info("SIGHUP: TLS certificates reloaded", "cert_serial", serial)
}
