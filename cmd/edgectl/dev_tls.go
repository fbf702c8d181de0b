package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/tlsutil"
)

// devTLSDir is where `dev up` keeps the cluster CA, every node's
// certificate and key, and the gossip key: DIR/tls.
func devTLSDir(dir string) string { return filepath.Join(dir, "tls") }

// devGossipKeyFile holds the dev cluster's gossip key (base64).
const devGossipKeyFile = "gossip.key"

// devCAFile is the CA certificate clients of a TLS dev cluster trust.
func devCAFile(dir string) string { return filepath.Join(devTLSDir(dir), tlsutil.CACertFile) }

// ensureDevTLS makes DIR/tls hold a cluster CA, a certificate and key for
// every planned node (IP SAN: the node's address, DNS SAN: localhost, so
// HTTPS clients can check the host) and a gossip key, reusing whatever a
// previous `dev up` in DIR created. It returns the gossip key.
func ensureDevTLS(dir string, nodes []devNode) (gossipKey string, err error) {
	tdir := devTLSDir(dir)
	if err := os.MkdirAll(tdir, 0o700); err != nil {
		return "", fmt.Errorf("dev tls: %w", err)
	}
	if _, err := os.Stat(filepath.Join(tdir, tlsutil.CACertFile)); errors.Is(err, os.ErrNotExist) {
		if _, err := tlsutil.CreateCA(tdir, tlsutil.CAOptions{CommonName: "Edgeplane dev cluster CA"}); err != nil {
			return "", fmt.Errorf("dev tls: %w", err)
		}
	}
	for _, n := range nodes {
		cert, _ := tlsutil.CertFiles(tdir, n.ID)
		if _, err := os.Stat(cert); err == nil {
			continue
		}
		ip := net.ParseIP(n.IP)
		if _, err := tlsutil.CreateNodeCert(tdir, n.ID, []net.IP{ip}, []string{"localhost"}, tdir); err != nil {
			return "", fmt.Errorf("dev tls: %s: %w", n.ID, err)
		}
	}
	keyFile := filepath.Join(tdir, devGossipKeyFile)
	if b, err := os.ReadFile(keyFile); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("dev tls: %w", err)
	}
	return key, nil
}

// devTLSArgs are edged's TLS flags for node id with its files in DIR/tls.
func devTLSArgs(dir, id string) []string {
	ca, cert, key := tlsutil.NodeFiles(devTLSDir(dir), id)
	return []string{"--tls-ca", ca, "--tls-cert", cert, "--tls-key", key}
}
