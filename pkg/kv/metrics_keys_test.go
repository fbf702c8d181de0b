package kv_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/node"
	"github.com/edgeplane/edgeplane/pkg/service"
)

func TestKVMetricsOnASingleNode(t *testing.T) {
	n, err := node.New(node.Config{NodeID: "m1", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		RaftAddr: "127.0.0.1:0", GossipAddr: "127.0.0.1:0", AdminToken: "t", Voters: 1,
		Services: []service.Factory{kv.Factory(kv.Options{})}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for n.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := n.CreateResource(ctx, catalog.KindKVNamespace, "", "metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := kvOf(n).Service().Put(ctx, r.ID, k, []byte("v"), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get("http://" + n.Addr().HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `edge_kv_keys{namespace="` + r.ID + `"} 3`
	if !strings.Contains(string(body), want) {
		t.Fatalf("/metrics lacks %s", want)
	}
	for _, name := range []string{"edge_kv_ops_total"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
