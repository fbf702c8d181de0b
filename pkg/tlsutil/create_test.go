package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	iss, err := CreateCA(dir, CAOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	c := iss.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Fatalf("not a path-length-0 CA: IsCA=%v MaxPathLen=%d", c.IsCA, c.MaxPathLen)
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatal("CA cannot sign certificates")
	}
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("CA key %T, want ECDSA P-256", c.PublicKey)
	}
	if got := c.NotAfter.Sub(now); got != DefaultCAValidity {
		t.Fatalf("CA valid for %v, want %v", got, DefaultCAValidity)
	}
	if m := fileMode(t, iss.KeyFile); m != 0o600 {
		t.Fatalf("ca.key mode %o, want 600", m)
	}
	if iss.CertFile != filepath.Join(dir, CACertFile) || iss.KeyFile != filepath.Join(dir, CAKeyFile) {
		t.Fatalf("files %s %s", iss.CertFile, iss.KeyFile)
	}
	if _, _, err := LoadCA(dir); err != nil {
		t.Fatalf("LoadCA: %v", err)
	}
	before, _ := os.ReadFile(iss.CertFile)
	if _, err := CreateCA(dir, CAOptions{}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second CreateCA: %v, want refusal", err)
	}
	after, _ := os.ReadFile(iss.CertFile)
	if string(before) != string(after) {
		t.Fatal("ca.crt changed by the refused CreateCA")
	}
	// A lone ca.key also blocks a new CA.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, CAKeyFile), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateCA(dir2, CAOptions{}); err == nil {
		t.Fatal("CreateCA overwrote an existing ca.key")
	}
}

func TestCreateNodeCert(t *testing.T) {
	p := newPKI(t)
	out := t.TempDir()
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	iss, err := CreateNodeCert(p.caDir, "node-1", ips, []string{"node-1.edge.test"}, out)
	if err != nil {
		t.Fatal(err)
	}
	c := iss.Cert
	if iss.CertFile != filepath.Join(out, "node-1.crt") || iss.KeyFile != filepath.Join(out, "node-1.key") {
		t.Fatalf("files %s %s", iss.CertFile, iss.KeyFile)
	}
	if m := fileMode(t, iss.KeyFile); m != 0o600 {
		t.Fatalf("key mode %o", m)
	}
	if c.Subject.CommonName != "node-1" {
		t.Fatalf("CN %q", c.Subject.CommonName)
	}
	if len(c.URIs) != 1 || c.URIs[0].String() != "edgeplane://node/node-1" {
		t.Fatalf("URIs %v", c.URIs)
	}
	if id, err := NodeIDFromCert(c); err != nil || id != "node-1" {
		t.Fatalf("NodeIDFromCert = %q, %v", id, err)
	}
	if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Fatalf("ext key usage %v", c.ExtKeyUsage)
	}
	if len(c.IPAddresses) != 2 || !c.IPAddresses[0].Equal(ips[0]) || !c.IPAddresses[1].Equal(ips[1]) {
		t.Fatalf("IP SANs %v", c.IPAddresses)
	}
	if !slices.Equal(c.DNSNames, []string{"node-1.edge.test"}) {
		t.Fatalf("DNS SANs %v", c.DNSNames)
	}
	if got := time.Until(c.NotAfter); got < DefaultCertValidity-time.Hour || got > DefaultCertValidity {
		t.Fatalf("valid for %v more, want about %v", got, DefaultCertValidity)
	}
	if c.IsCA {
		t.Fatal("node certificate is a CA")
	}
	if _, err := CreateNodeCert(p.caDir, "node-1", nil, nil, out); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("reissue into the same dir: %v", err)
	}
}

func TestCreateCertNoDefaultSANs(t *testing.T) {
	p := newPKI(t)
	iss := p.issue(t, CertRequest{Identity: NodeIdentity("n")})
	if len(iss.Cert.IPAddresses) != 0 || len(iss.Cert.DNSNames) != 0 {
		t.Fatalf("SANs added by default: %v %v", iss.Cert.IPAddresses, iss.Cert.DNSNames)
	}
}

func TestCreateCertValidity(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	iss := p.issue(t, CertRequest{Identity: NodeIdentity("n"), Validity: 48 * time.Hour, Now: now})
	if got := iss.Cert.NotAfter.Sub(now.Truncate(time.Second)); got < 47*time.Hour || got > 49*time.Hour {
		t.Fatalf("lifetime %v, want 48h", got)
	}
	// Longer than the CA: cut to the CA's end.
	ca, _, err := LoadCA(p.caDir)
	if err != nil {
		t.Fatal(err)
	}
	iss = p.issue(t, CertRequest{Identity: NodeIdentity("m"), Validity: 20 * 365 * 24 * time.Hour})
	if !iss.Cert.NotAfter.Equal(ca.NotAfter) {
		t.Fatalf("NotAfter %v, want the CA's %v", iss.Cert.NotAfter, ca.NotAfter)
	}
}

func TestCreateClientCert(t *testing.T) {
	p := newPKI(t)
	iss, err := CreateClientCert(p.caDir, "alice", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, err := IdentityFromCert(iss.Cert)
	if err != nil || id != ClientIdentity("alice") || id.String() != "edgeplane://client/alice" {
		t.Fatalf("identity %v, %v", id, err)
	}
	if !slices.Equal(iss.Cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Fatalf("client cert usages %v", iss.Cert.ExtKeyUsage)
	}
	if _, err := NodeIDFromCert(iss.Cert); err == nil {
		t.Fatal("a client certificate named a node")
	}
	if _, err := CreateCert(p.caDir, t.TempDir(), CertRequest{Identity: ClientIdentity("bob"), DNSNames: []string{"x"}}); err == nil {
		t.Fatal("client certificate with a DNS SAN accepted")
	}
}

func TestCreateCertErrors(t *testing.T) {
	p := newPKI(t)
	for _, id := range []string{"", "a/b", "node 1", "../x", strings.Repeat("a", 65)} {
		if _, err := CreateNodeCert(p.caDir, id, nil, nil, t.TempDir()); err == nil {
			t.Errorf("node id %q accepted", id)
		}
	}
	if _, err := CreateNodeCert(t.TempDir(), "n", nil, nil, t.TempDir()); err == nil {
		t.Error("issued without a CA")
	}
	// A key that does not belong to the certificate.
	other := newPKI(t)
	copyFile(t, filepath.Join(other.caDir, CAKeyFile), filepath.Join(p.caDir, CAKeyFile))
	if _, err := CreateNodeCert(p.caDir, "n", nil, nil, t.TempDir()); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched CA key: %v", err)
	}
}
