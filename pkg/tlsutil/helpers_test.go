package tlsutil

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pki is a test cluster CA with a directory for issued certificates.
type pki struct {
	caDir string
	out   string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{caDir: filepath.Join(t.TempDir(), "ca"), out: filepath.Join(t.TempDir(), "certs")}
	if _, err := CreateCA(p.caDir, CAOptions{}); err != nil {
		t.Fatal(err)
	}
	return p
}

// node issues a node certificate and returns a Reloader over it. Each call
// uses a fresh output directory so one node can be issued several times.
func (p *pki) node(t *testing.T, id string) *Reloader {
	t.Helper()
	return p.reloader(t, CertRequest{Identity: NodeIdentity(id), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
}

func (p *pki) reloader(t *testing.T, req CertRequest) *Reloader {
	t.Helper()
	dir := t.TempDir()
	iss, err := CreateCert(p.caDir, dir, req)
	if err != nil {
		t.Fatal(err)
	}
	// Each node has its own copy of the CA bundle, as on separate machines.
	caFile := filepath.Join(dir, CACertFile)
	copyFile(t, filepath.Join(p.caDir, CACertFile), caFile)
	r, err := NewReloader(caFile, iss.CertFile, iss.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// issue writes a certificate for req into a fresh directory.
func (p *pki) issue(t *testing.T, req CertRequest) *Issued {
	t.Helper()
	iss, err := CreateCert(p.caDir, t.TempDir(), req)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// handshake connects a client with cc to a server with sc over 127.0.0.1.
// The server writes one byte after its handshake; the client reads it, so
// that a client certificate refused by a TLS 1.3 server surfaces on the
// client too. It returns both sides' errors and connection states.
func handshake(t *testing.T, sc, cc *tls.Config) (srvState tls.ConnectionState, srvErr error, cliState tls.ConnectionState, cliErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		st  tls.ConnectionState
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		s := tls.Server(c, sc)
		if err := s.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		_, err = s.Write([]byte{1})
		done <- result{st: s.ConnectionState(), err: err}
	}()
	raw, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(raw, cc)
	cliErr = c.Handshake()
	if cliErr == nil {
		_, cliErr = io.ReadFull(c, make([]byte, 1))
		cliState = c.ConnectionState()
	}
	_ = raw.Close()
	res := <-done
	return res.st, res.err, cliState, cliErr
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
