package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clusterIDOf waits until the node reports the cluster id it recorded.
func clusterIDOf(t *testing.T, bin string, fp *faultProc) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := nodeStatus(bin, fp.url())
		if err == nil && st.ClusterID != "" {
			return st.ClusterID
		}
		if !fp.running() || time.Now().After(deadline) {
			t.Fatalf("%s reports no cluster id (err %v); output:\n%s", fp.id, err, fp.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recordedClusterID reads the cluster id in a data dir's IDENTITY file.
func recordedClusterID(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "IDENTITY"))
	if err != nil {
		t.Fatal(err)
	}
	var id struct {
		ClusterID string `json:"cluster_id"`
	}
	if err := json.Unmarshal(b, &id); err != nil {
		t.Fatal(err)
	}
	return id.ClusterID
}

// A node whose data dir belongs to one cluster, restarted with the seeds of
// another cluster, exits with an error naming both clusters; the other
// cluster never lists it.
func TestFaultJoiningAnotherClusterIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	a := newProc(t, "alpha", "us-east", "")
	fa := startFault(t, bin, a)
	readyNode(t, bin, fa)
	b := newProc(t, "bravo", "us-east", "")
	fb := startFault(t, bin, b)
	readyNode(t, bin, fb)
	idA, idB := clusterIDOf(t, bin, fa), clusterIDOf(t, bin, fb)
	if idA == idB {
		t.Fatalf("two clusters bootstrapped apart share the id %q", idA)
	}
	for deadline := time.Now().Add(10 * time.Second); recordedClusterID(t, b.dir) != idB; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("bravo's data dir records cluster %q, not %q", recordedClusterID(t, b.dir), idB)
		}
	}
	_ = fb.cmd.Process.Signal(syscall.SIGTERM)
	if code := fb.waitExit(t, 20*time.Second); code != 0 {
		t.Fatalf("clean stop exited %d:\n%s", code, fb.out.String())
	}

	again := startFault(t, bin, b, "--join", a.gsp)
	code := again.waitExit(t, 30*time.Second)
	out := again.out.String()
	t.Logf("exit %d: %s", code, lastLines(out, 1))
	if code == 0 || !strings.Contains(out, idA) || !strings.Contains(out, idB) || !strings.Contains(out, "another cluster") {
		t.Fatalf("restart with another cluster's seed: exit %d, output:\n%s", code, out)
	}
	ms, err := members(bin, fa.url())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == "bravo" {
			t.Fatalf("alpha's cluster lists bravo: %+v", ms)
		}
	}
	if recordedClusterID(t, b.dir) != idB {
		t.Fatal("the refused node's data dir changed cluster")
	}
}
