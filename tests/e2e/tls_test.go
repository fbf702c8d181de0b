package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/tlsutil"
)

// serialAt completes a handshake with addr and returns the serial of the
// certificate it presents (hex), or "" on failure. cfg is cloned.
func serialAt(addr string, cfg *tls.Config) string {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, cfg.Clone())
	if err != nil {
		return ""
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

// replaceCert issues node id a new certificate from the CA in caDir and
// moves it over the node's files, as an operator renewing it would.
func replaceCert(t *testing.T, caDir, id, nodeDir, nodeID string) string {
	t.Helper()
	renew := t.TempDir()
	iss, err := tlsutil.CreateNodeCert(caDir, id, []net.IP{net.IPv4(127, 0, 0, 1)}, nil, renew)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := tlsutil.CertFiles(nodeDir, nodeID)
	if err := os.Rename(iss.KeyFile, key); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(iss.CertFile, cert); err != nil {
		t.Fatal(err)
	}
	return iss.Cert.SerialNumber.Text(16)
}

// TestSIGHUPReloadsCertificates runs edged with TLS, renews its
// certificate on disk and sends SIGHUP: new handshakes on the HTTPS and
// gRPC ports present the new serial. A certificate naming another node is
// refused on reload and the current one kept.
func TestSIGHUPReloadsCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	tdir := t.TempDir()
	if _, err := tlsutil.CreateCA(tdir, tlsutil.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	first, err := tlsutil.CreateNodeCert(tdir, "hup", []net.IP{net.IPv4(127, 0, 0, 1)}, nil, tdir)
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key := tlsutil.NodeFiles(tdir, "hup")
	p := newProc(t, "hup", "r1", "")
	logs := &lockedBuffer{}
	cmd := exec.Command(filepath.Join(bin, "edged"), "--node-id", p.id, "--region", p.region, "--data-dir", p.dir,
		"--http-addr", p.http, "--grpc-addr", p.grpc, "--raft-addr", p.raft, "--gossip-addr", p.gsp,
		"--admin-token", token, "--tls-ca", ca, "--tls-cert", cert, "--tls-key", key)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})

	pem, _ := os.ReadFile(ca)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	httpsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	// A client certificate of the cluster for the internal port; the
	// handshake needs no membership (RequireMember refuses at the call).
	clientDir := t.TempDir()
	if _, err := tlsutil.CreateNodeCert(tdir, "probe", nil, nil, clientDir); err != nil {
		t.Fatal(err)
	}
	pc, pk := tlsutil.CertFiles(clientDir, "probe")
	pair, err := tls.LoadX509KeyPair(pc, pk)
	if err != nil {
		t.Fatal(err)
	}
	grpcCfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"},
		InsecureSkipVerify: true} //nolint:gosec // the serial is what is checked
	old := first.Cert.SerialNumber.Text(16)
	waitFor(t, "HTTPS with the first certificate", 30*time.Second, func() bool {
		return serialAt(p.http, httpsCfg) == old && serialAt(p.grpc, grpcCfg) == old
	})

	renewed := replaceCert(t, tdir, "hup", tdir, "hup")
	if renewed == old {
		t.Fatal("same serial")
	}
	if got := serialAt(p.http, httpsCfg); got != old {
		t.Fatalf("serial changed before SIGHUP: %s", got)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, "the renewed certificate after SIGHUP", 10*time.Second, func() bool {
		return serialAt(p.http, httpsCfg) == renewed && serialAt(p.grpc, grpcCfg) == renewed
	})
	t.Logf("measured: new handshakes presented the renewed certificate %v after SIGHUP", took.Round(time.Millisecond))

	// A certificate of another node is refused; the renewed one stays.
	replaceCert(t, tdir, "someone-else", tdir, "hup")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed reload in the log", 10*time.Second, func() bool {
		return strings.Contains(logs.String(), "TLS reload failed")
	})
	if got := serialAt(p.http, httpsCfg); got != renewed {
		t.Fatalf("after a refused reload the serial is %s, want %s", got, renewed)
	}
	if !strings.Contains(logs.String(), "TLS certificates reloaded") || serialAt(p.grpc, grpcCfg) != renewed {
		t.Fatalf("log:\n%s", logs.String())
	}
}

// TestEdgedRefusesToListenBeyondLoopbackWithoutTLS: the real binary bound
// to 0.0.0.0 without TLS and gossip key exits at once with a hint.
func TestEdgedRefusesToListenBeyondLoopbackWithoutTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	ports := freePorts(t, 1)
	cmd := exec.Command(filepath.Join(bin, "edged"), "--node-id", "open", "--data-dir", filepath.Join(t.TempDir(), "d"),
		"--http-addr", "0.0.0.0:"+strconv.Itoa(ports[0]))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--insecure") || !strings.Contains(string(out), "gossip key") {
		t.Fatalf("edged beyond loopback without TLS: %v\n%s", err, out)
	}
}
