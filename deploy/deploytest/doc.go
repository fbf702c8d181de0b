// Package deploytest checks the files under deploy/ without running them:
// the Prometheus configuration, rules and alert unit tests through promtool,
// the Grafana dashboards (committed JSON current, every query valid PromQL,
// every recorded series defined), the compose file, the Kubernetes manifests
// and the systemd files. No container engine or cluster runs here: compose
// and manifests are parsed and checked for the properties deploy/README.md
// promises.
//
// Tool is also used by tests/observe, which runs a real Prometheus.
package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Tool returns the path of a command-line tool the test needs (prometheus,
// promtool). Without it the test is skipped with a message saying how to
// install it, except under CI (CI=true), where a missing tool fails the test:
// CI installs it with scripts/install-prometheus.sh.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found on PATH: run scripts/install-prometheus.sh (Debian's prometheus package)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: required)")
	}
	t.Skip(msg)
	return ""
}

// RepoRoot is the repository's top directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository")
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Path is a path under the repository's deploy/ directory.
func Path(t testing.TB, elem ...string) string {
	return filepath.Join(append([]string{RepoRoot(t), "deploy"}, elem...)...)
}
