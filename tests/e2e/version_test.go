package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeBuildStampsBothBinaries builds through the Makefile with a
// VERSION and checks that edged --version and edgectl version print it:
// the -X path the Makefile stamps is the variable both binaries read.
func TestMakeBuildStampsBothBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make build")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	const v = "v9.8.7-e2e"
	bin := t.TempDir()
	cmd := exec.Command("make", "-s", "build", "VERSION="+v, "BINDIR="+bin)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "edged"), "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "edged "+v {
		t.Fatalf("edged --version: %q %v, want %q", out, err, "edged "+v)
	}
	// No endpoint answers on a dead port: only the client line matters.
	out, err = exec.Command(filepath.Join(bin, "edgectl"), "--endpoint", "http://127.0.0.1:1", "--timeout", "1s",
		"version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "edgectl "+v+"\n") {
		t.Fatalf("edgectl version: %q %v, want it to start %q", out, err, "edgectl "+v)
	}
}
