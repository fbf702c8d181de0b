package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/tlsutil"
)

func tlsJSON(t *testing.T, args ...string) tlsIssued {
	t.Helper()
	stdout, stderr, code := runCLI(t, nil, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("edgectl %v: exit %d, stderr %q", args, code, stderr)
	}
	var res tlsIssued
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	return res
}

func TestTLSCreateCAAndNodeCert(t *testing.T) {
	dir := t.TempDir()
	caDir, out := filepath.Join(dir, "ca"), filepath.Join(dir, "node-1")

	ca := tlsJSON(t, "tls", "ca", "create", "--dir", caDir)
	if !slices.Equal(ca.Files, []string{filepath.Join(caDir, "ca.crt"), filepath.Join(caDir, "ca.key")}) || !ca.IsCA {
		t.Fatalf("ca = %+v", ca)
	}
	if d := time.Until(ca.NotAfter); d < 9*365*24*time.Hour {
		t.Fatalf("CA valid for %v", d)
	}
	fi, err := os.Stat(ca.Files[1])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key: %v %v", fi, err)
	}

	cert := tlsJSON(t, "tls", "cert", "create", "--ca-dir", caDir, "--node", "node-1",
		"--ip", "127.0.0.1", "--ip", "::1", "--dns", "node-1.local", "--out", out, "--days", "30")
	if !slices.Equal(cert.Files, []string{filepath.Join(out, "node-1.crt"), filepath.Join(out, "node-1.key")}) {
		t.Fatalf("files %v", cert.Files)
	}
	if cert.Identity != "edgeplane://node/node-1" || !slices.Equal(cert.URIs, []string{"edgeplane://node/node-1"}) ||
		!strings.Contains(cert.Subject, "CN=node-1") || cert.IsCA {
		t.Fatalf("cert = %+v", cert)
	}
	if !slices.Equal(cert.IPs, []string{"127.0.0.1", "::1"}) || !slices.Equal(cert.DNSNames, []string{"node-1.local"}) {
		t.Fatalf("SANs %v %v", cert.IPs, cert.DNSNames)
	}
	if d := time.Until(cert.NotAfter); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("--days 30 gave %v", d)
	}
	// The files load as a node's TLS material.
	caFile := filepath.Join(out, "ca.crt")
	data, _ := os.ReadFile(ca.Files[0])
	if err := os.WriteFile(caFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := tlsutil.NewReloader(tlsutil.NodeFiles(out, "node-1"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Identity() != tlsutil.NodeIdentity("node-1") {
		t.Fatalf("identity %v", r.Identity())
	}

	// Table output names the files and the identity.
	stdout, stderr, code := runCLI(t, nil, "tls", "cert", "create", "--ca-dir", caDir, "--client", "ops", "--out", out)
	if code != 0 {
		t.Fatalf("client cert: exit %d, %q", code, stderr)
	}
	for _, want := range []string{filepath.Join(out, "ops.crt"), filepath.Join(out, "ops.key"), "edgeplane://client/ops", "not after"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestTLSRefusesOverwrite(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	tlsJSON(t, "tls", "ca", "create", "--dir", caDir)
	before, _ := os.ReadFile(filepath.Join(caDir, "ca.key"))
	stdout, stderr, code := runCLI(t, nil, "tls", "ca", "create", "--dir", caDir)
	assertOneLineError(t, stdout, stderr, code)
	if !strings.Contains(stderr, "refusing to overwrite") {
		t.Fatalf("stderr %q", stderr)
	}
	after, _ := os.ReadFile(filepath.Join(caDir, "ca.key"))
	if string(before) != string(after) {
		t.Fatal("ca.key overwritten")
	}
	out := t.TempDir()
	tlsJSON(t, "tls", "cert", "create", "--ca-dir", caDir, "--node", "n1", "--out", out)
	stdout, stderr, code = runCLI(t, nil, "tls", "cert", "create", "--ca-dir", caDir, "--node", "n1", "--out", out)
	assertOneLineError(t, stdout, stderr, code)
}

func TestTLSErrors(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	tlsJSON(t, "tls", "ca", "create", "--dir", caDir)
	out := t.TempDir()
	cases := map[string][]string{
		"--dir is required":     {"tls", "ca", "create"},
		"invalid --days":        {"tls", "ca", "create", "--dir", t.TempDir(), "--days", "-1"},
		"--ca-dir and --out":    {"tls", "cert", "create", "--node", "n"},
		"--node ID or --client": {"tls", "cert", "create", "--ca-dir", caDir, "--out", out},
		"not both":              {"tls", "cert", "create", "--ca-dir", caDir, "--out", out, "--node", "n", "--client", "c"},
		"invalid --ip":          {"tls", "cert", "create", "--ca-dir", caDir, "--out", out, "--node", "n", "--ip", "300.1.1.1"},
		"name":                  {"tls", "cert", "create", "--ca-dir", caDir, "--out", out, "--node", "a/b"},
		"no such file":          {"tls", "cert", "create", "--ca-dir", t.TempDir(), "--out", out, "--node", "n"},
		"take no IP or DNS":     {"tls", "cert", "create", "--ca-dir", caDir, "--out", out, "--client", "c", "--dns", "x"},
	}
	for want, args := range cases {
		stdout, stderr, code := runCLI(t, nil, args...)
		assertOneLineError(t, stdout, stderr, code)
		if !strings.Contains(stderr, want) {
			t.Errorf("edgectl %v: stderr %q, want %q", args, stderr, want)
		}
	}
}
