package do_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/do"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// TestRemovedNodeLeavesEveryPlacement: a node killed and removed from the
// cluster for good drops out of every replica set once its lease record
// is forgotten. Objects it held keep every acknowledged write (on their
// other replicas, then on the node that takes its seat), and new objects
// that would have had it in their set open, which they cannot while it
// keeps its seat (Open waits for the whole set of a new object).
func TestRemovedNodeLeavesEveryPlacement(t *testing.T) {
	c, cl, ns := cluster(t, 4, do.Options{}, nil)
	leader := c.WaitLeader(10 * time.Second)
	victim := c.Member((c.Index(leader) + 1) % 4)
	where := func(name string) do.Where {
		var w do.Where
		cl.must(leader, http.MethodGet, ns+"/objects/by-name/"+name+"/where", nil, &w)
		return w
	}
	// Names whose replica set holds the victim: some written now, some
	// never written before the removal.
	var old, fresh []string
	for i := 0; len(old) < 3 || len(fresh) < 3; i++ {
		name := fmt.Sprintf("obj-%d", i)
		if !slices.Contains(where(name).Replicas, victim.ID) {
			continue
		}
		if len(old) < 3 {
			old = append(old, name)
			cl.must(leader, http.MethodPost, ns+"/objects/by-name/"+name+"/storage/put",
				map[string]any{"entries": map[string]any{"k": name}}, nil)
		} else {
			fresh = append(fresh, name)
		}
	}

	c.Kill(c.Index(victim))
	c.WaitFor(victim.ID+" failed in the leader's gossip", 15*time.Second, func() bool {
		return c.StateOf(c.Index(leader), victim.ID) == wire.StateFailed
	})
	if code, body := c.RemoveMember(leader, victim.ID, false); code != http.StatusOK {
		t.Fatalf("remove %s: %d %s", victim.ID, code, body)
	}
	removed := time.Now()
	c.WaitFor("no placement names "+victim.ID, 30*time.Second, func() bool {
		for _, m := range c.Up() {
			var w do.Where
			r, err := cl.do(m, http.MethodGet, ns+"/objects/by-name/"+fresh[0]+"/where", nil)
			if err != nil || r.status != http.StatusOK || json.Unmarshal(r.env.Result, &w) != nil || slices.Contains(w.Replicas, victim.ID) || len(w.Replicas) != 3 {
				return false
			}
		}
		return true
	})
	t.Logf("measured: %s left every placement %v after its removal", victim.ID, time.Since(removed).Round(time.Millisecond))

	for _, name := range fresh {
		cl.must(leader, http.MethodPost, ns+"/objects/by-name/"+name+"/storage/put",
			map[string]any{"entries": map[string]any{"k": name}}, nil)
	}
	for _, name := range append(old, fresh...) {
		var got struct {
			Entries map[string]string `json:"entries"`
		}
		cl.must(leader, http.MethodPost, ns+"/objects/by-name/"+name+"/storage/get", map[string]any{"keys": []string{"k"}}, &got)
		if got.Entries["k"] != name {
			t.Fatalf("%s after the removal: %+v", name, got)
		}
	}
}
