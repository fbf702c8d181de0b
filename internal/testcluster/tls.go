package testcluster

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/node"
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
)

// tlsState is the cluster CA of a TLS test cluster (Options.TLS).
type tlsState struct {
	once sync.Once
	dir  string // CA directory, also holding every node's files
	err  error
}

// CADir is the directory of the cluster CA (ca.crt, ca.key) and of every
// node's certificate and key, or "" without Options.TLS. Tests issue extra
// certificates from it (tlsutil.CreateNodeCert).
func (c *Cluster) CADir() string {
	if !c.opts.TLS {
		return ""
	}
	c.tlsDir()
	return c.tls.dir
}

func (c *Cluster) tlsDir() string {
	c.t.Helper()
	c.tls.once.Do(func() {
		c.tls.dir = filepath.Join(c.t.TempDir(), "tls")
		_, c.tls.err = tlsutil.CreateCA(c.tls.dir, tlsutil.CAOptions{})
	})
	if c.tls.err != nil {
		c.t.Fatalf("testcluster: create CA: %v", c.tls.err)
	}
	return c.tls.dir
}

// nodeTLS issues member m a certificate (once; restarts reuse it) with
// 127.0.0.1 as IP SAN for HTTPS clients, and returns the node's TLS
// configuration.
func (c *Cluster) nodeTLS(m *Member) node.TLSConfig {
	c.t.Helper()
	if !c.opts.TLS {
		return node.TLSConfig{}
	}
	dir := c.tlsDir()
	ca, cert, key := tlsutil.NodeFiles(dir, m.ID)
	if _, err := os.Stat(cert); os.IsNotExist(err) {
		if _, err := tlsutil.CreateNodeCert(dir, m.ID, []net.IP{net.IPv4(127, 0, 0, 1)}, nil, dir); err != nil {
			c.t.Fatalf("testcluster: certificate for %s: %v", m.ID, err)
		}
	}
	return node.TLSConfig{CAFile: ca, CertFile: cert, KeyFile: key}
}

// HTTPClient is a client for the members' public API: it trusts the
// cluster CA when Options.TLS is set.
func (c *Cluster) HTTPClient() *http.Client {
	if !c.opts.TLS {
		return &http.Client{Timeout: 10 * time.Second}
	}
	pem, err := os.ReadFile(filepath.Join(c.tlsDir(), tlsutil.CACertFile))
	if err != nil {
		c.t.Fatalf("testcluster: read CA: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
}

// GRPCAddr is the member's internal gRPC address.
func (m *Member) GRPCAddr() string { return m.addrs.grpc }
