package do_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/do"
)

// TestStorageAPIAcrossNodes: every storage call works from every node; the
// answer names the owner, which is the node /where names.
func TestStorageAPIAcrossNodes(t *testing.T) {
	c, cl, ns := cluster(t, 3, do.Options{}, nil)
	obj := ns + "/objects/by-name/counter"
	var where do.Where
	cl.must(c.Member(0), http.MethodGet, obj+"/where", nil, &where)
	if where.Owner == "" || len(where.Replicas) != 3 || where.Epoch == 0 {
		t.Fatalf("where: %+v", where)
	}
	for i := range 3 {
		var res struct {
			Value    int64  `json:"value"`
			ServedBy string `json:"served_by"`
		}
		r := cl.must(c.Member(i), http.MethodPost, obj+"/storage/incr", map[string]any{"key": "n"}, &res)
		if res.Value != int64(i+1) || res.ServedBy != where.Owner || r.header.Get("X-Edge-Served-By") != where.Owner {
			t.Fatalf("incr via node %d: %+v, header %q, owner %s", i, res, r.header.Get("X-Edge-Served-By"), where.Owner)
		}
	}
	cl.must(c.Member(1), http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{
		"a": map[string]any{"x": 1}, "b": "two", "c": []int{3}}}, nil)
	var got struct {
		Entries map[string]any `json:"entries"`
	}
	cl.must(c.Member(2), http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{"a", "b", "zz"}}, &got)
	if len(got.Entries) != 2 || got.Entries["b"] != "two" {
		t.Fatalf("get: %+v", got)
	}
	var list struct {
		Entries []struct {
			Key string `json:"key"`
		} `json:"entries"`
		Truncated bool `json:"truncated"`
	}
	cl.must(c.Member(0), http.MethodGet, obj+"/storage?reverse=true&limit=3", nil, &list)
	if len(list.Entries) != 3 || list.Entries[0].Key != "n" || list.Entries[2].Key != "b" || !list.Truncated {
		t.Fatalf("list: %+v", list)
	}
	// A transaction whose check fails writes nothing.
	cl.expect(c.Member(1), http.MethodPost, obj+"/storage/transaction", map[string]any{
		"checks": []any{map[string]any{"key": "b", "equals": "three"}},
		"ops":    []any{map[string]any{"op": "put", "key": "b", "value": "four"}, map[string]any{"op": "delete", "key": "a"}},
	}, http.StatusConflict, api.CodeDOCheckFailed)
	cl.must(c.Member(1), http.MethodPost, obj+"/storage/transaction", map[string]any{
		"checks": []any{map[string]any{"key": "b", "equals": "two"}, map[string]any{"key": "new", "absent": true}},
		"ops":    []any{map[string]any{"op": "put", "key": "b", "value": "four"}, map[string]any{"op": "delete", "key": "a"}},
	}, nil)
	got.Entries = nil
	cl.must(c.Member(0), http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{"a", "b"}}, &got)
	if len(got.Entries) != 1 || got.Entries["b"] != "four" {
		t.Fatalf("after transaction: %+v", got)
	}
	var del struct {
		Deleted int `json:"deleted"`
	}
	cl.must(c.Member(2), http.MethodPost, obj+"/storage/delete", map[string]any{"keys": []string{"b", "c", "nope"}}, &del)
	if del.Deleted != 2 {
		t.Fatalf("deleted %d, want 2", del.Deleted)
	}
	cl.must(c.Member(2), http.MethodDelete, obj+"/storage", nil, nil)
	list.Entries = nil
	cl.must(c.Member(1), http.MethodGet, obj+"/storage", nil, &list)
	if len(list.Entries) != 0 {
		t.Fatalf("after deleteAll: %+v", list)
	}
	// The same object by id.
	var id struct {
		ID string `json:"id"`
	}
	cl.must(c.Member(1), http.MethodPost, ns+"/ids", map[string]string{"name": "counter"}, &id)
	cl.must(c.Member(0), http.MethodPost, ns+"/objects/"+id.ID+"/storage/put", map[string]any{"entries": map[string]any{"k": 1}}, nil)
	list.Entries = nil
	cl.must(c.Member(2), http.MethodGet, obj+"/storage", nil, &list)
	if len(list.Entries) != 1 || list.Entries[0].Key != "k" {
		t.Fatalf("by id and by name differ: %+v", list)
	}
	var uid struct {
		ID string `json:"id"`
	}
	cl.must(c.Member(0), http.MethodPost, ns+"/ids", map[string]any{}, &uid)
	if !do.IsUnique(uid.ID) || uid.ID == id.ID {
		t.Fatalf("unique id %q", uid.ID)
	}
}

// TestLimits: each limit passes at its edge and fails one past it with a
// 4xx envelope, and a refused request changes nothing.
func TestLimits(t *testing.T) {
	c, cl, ns := cluster(t, 1, do.Options{}, nil)
	m := c.Member(0)
	obj := ns + "/objects/by-name/limits"
	put := func(entries map[string]any) (reply, error) {
		return cl.do(m, http.MethodPost, obj+"/storage/put", map[string]any{"entries": entries})
	}
	key := strings.Repeat("k", do.MaxKeyBytes)
	cl.must(m, http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{key: 1}}, nil)
	cl.expect(m, http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{key + "k": 1}}, http.StatusBadRequest, api.CodeDOInvalidKey)
	cl.expect(m, http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{"": 1}}, http.StatusBadRequest, api.CodeDOInvalidKey)
	// key + value at 2 MB passes; one byte more fails. The value is a JSON
	// string: its bytes are the quotes and the letters.
	big := strings.Repeat("v", do.MaxEntryBytes-len("big")-2)
	cl.must(m, http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{"big": big}}, nil)
	cl.expect(m, http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{"big": big + "v"}}, http.StatusRequestEntityTooLarge, api.CodeDOValueTooLarge)
	keys := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "key" + strings.Repeat("x", i)
		}
		return out
	}
	entries := func(n int) map[string]any {
		out := map[string]any{}
		for _, k := range keys(n) {
			out[k] = true
		}
		return out
	}
	if r, err := put(entries(do.MaxKeysPerCall)); err != nil || r.status != http.StatusOK {
		t.Fatalf("128 entries: %v %+v", err, r.env.Errors)
	}
	cl.expect(m, http.MethodPost, obj+"/storage/put", map[string]any{"entries": entries(do.MaxKeysPerCall + 1)}, http.StatusBadRequest, api.CodeDOTooManyKeys)
	cl.must(m, http.MethodPost, obj+"/storage/get", map[string]any{"keys": keys(do.MaxKeysPerCall)}, nil)
	cl.expect(m, http.MethodPost, obj+"/storage/get", map[string]any{"keys": keys(do.MaxKeysPerCall + 1)}, http.StatusBadRequest, api.CodeDOTooManyKeys)
	cl.expect(m, http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{}}, http.StatusBadRequest, api.CodeDOTooManyKeys)
	// Malformed input: bad ids, unknown namespace, bad JSON values, bad
	// transactions, bad list arguments.
	cl.expect(m, http.MethodPost, ns+"/objects/"+strings.Repeat("g", 64)+"/storage/get", map[string]any{"keys": []string{"a"}}, http.StatusBadRequest, api.CodeDOInvalidID)
	cl.expect(m, http.MethodPost, ns+"/objects/abc/storage/get", map[string]any{"keys": []string{"a"}}, http.StatusBadRequest, api.CodeDOInvalidID)
	forged := "8" + strings.Repeat("0", 63) // unique bit set, no valid MAC
	cl.expect(m, http.MethodPost, ns+"/objects/"+forged+"/storage/get", map[string]any{"keys": []string{"a"}}, http.StatusBadRequest, api.CodeDOInvalidID)
	other := ns[:strings.LastIndex(ns, "/")] + "/0000000000000000000000000000000"
	cl.expect(m, http.MethodPost, other+"/objects/by-name/x/storage/get", map[string]any{"keys": []string{"a"}}, http.StatusNotFound, api.CodeDONamespaceNotFound)
	cl.expect(m, http.MethodPost, obj+"/storage/transaction", map[string]any{
		"checks": []any{map[string]any{"key": "a", "equals": 1, "absent": true}},
		"ops":    []any{map[string]any{"op": "put", "key": "t", "value": 1}}}, http.StatusBadRequest, api.CodeBadRequest)
	cl.expect(m, http.MethodPost, obj+"/storage/transaction", map[string]any{
		"ops": []any{map[string]any{"op": "put", "key": "t", "value": 1}, map[string]any{"op": "rename", "key": "u"}}}, http.StatusBadRequest, api.CodeBadRequest)
	cl.expect(m, http.MethodGet, obj+"/storage?start=a&startAfter=b", nil, http.StatusBadRequest, api.CodeDOInvalidList)
	cl.expect(m, http.MethodGet, obj+"/storage?limit=0", nil, http.StatusBadRequest, api.CodeDOInvalidList)
	cl.expect(m, http.MethodPost, obj+"/storage/incr", map[string]any{"key": "big"}, http.StatusBadRequest, api.CodeDOInvalidValue)
	cl.expect(m, http.MethodPost, obj+"/storage/incr", map[string]any{"key": "n", "by": "x"}, http.StatusBadRequest, 0)
	// Nothing of the refused requests was written.
	var list struct {
		Entries []struct {
			Key string `json:"key"`
		} `json:"entries"`
	}
	cl.must(m, http.MethodGet, obj+"/storage?prefix=t", nil, &list)
	if len(list.Entries) != 0 {
		t.Fatalf("a refused transaction wrote: %+v", list)
	}
	list.Entries = nil
	cl.must(m, http.MethodGet, obj+"/storage?limit=1000", nil, &list)
	if len(list.Entries) != 2+do.MaxKeysPerCall {
		t.Fatalf("%d keys stored, want %d", len(list.Entries), 2+do.MaxKeysPerCall)
	}
}

// TestFailoverAfterKill: killing an object's owner moves the object to the
// next node within 10 s with nothing acknowledged lost, and the object
// returns to its first node when it restarts, with the writes made meanwhile.
func TestFailoverAfterKill(t *testing.T) {
	c, cl, ns := cluster(t, 3, do.Options{}, nil)
	obj := ns + "/objects/by-name/failover"
	var where do.Where
	cl.must(c.Member(0), http.MethodGet, obj+"/where", nil, &where)
	owner := -1
	for i, m := range c.Members() {
		if m.ID == where.Owner {
			owner = i
		}
	}
	via := c.Member((owner + 1) % 3)
	cl.must(via, http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{"k": "before"}}, nil)
	c.Kill(owner)
	killed := time.Now()
	var got struct {
		Entries  map[string]string `json:"entries"`
		ServedBy string            `json:"served_by"`
	}
	cl.must(via, http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{"k"}}, &got)
	took := time.Since(killed)
	t.Logf("failover took %v (lease period %v)", took, module(via).LeasePeriod())
	if got.Entries["k"] != "before" || got.ServedBy == where.Owner {
		t.Fatalf("after failover: %+v", got)
	}
	if took > 10*time.Second {
		t.Fatalf("failover took %v, want under 10s", took)
	}
	// The returning owner takes the object back without losing the write
	// made meanwhile.
	cl.must(via, http.MethodPost, obj+"/storage/put", map[string]any{"entries": map[string]any{"k2": "during"}}, nil)
	c.Restart(owner)
	c.WaitFor("the old owner serves its object again", 30*time.Second, func() bool {
		r, err := cl.do(via, http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{"k", "k2"}})
		return err == nil && r.status == http.StatusOK && r.header.Get("X-Edge-Served-By") == where.Owner
	})
	got.Entries = nil
	cl.must(via, http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{"k", "k2"}}, &got)
	if got.Entries["k"] != "before" || got.Entries["k2"] != "during" {
		t.Fatalf("after handoff back: %+v", got)
	}
}

// TestNamespaceAttributes: a namespace keeps its location hint, webhook and
// history (a JSON number), refuses bad ones, and a hinted namespace places
// its objects on the nodes of that region only.
func TestNamespaceAttributes(t *testing.T) {
	c, cl, ns := cluster(t, 3, do.Options{}, map[string]string{"location_hint": "eu-west"})
	base := ns[:strings.LastIndex(ns, "/")]
	var got do.Namespace
	cl.must(c.Member(1), http.MethodGet, ns, nil, &got)
	if got.LocationHint != "eu-west" {
		t.Fatalf("namespace: %+v", got)
	}
	var where do.Where
	cl.must(c.Member(0), http.MethodGet, ns+"/objects/by-name/x/where", nil, &where)
	eu := ""
	for _, m := range c.Members() {
		if m.Node().Status().Region == "eu-west" {
			eu = m.ID
		}
	}
	if where.Owner != eu || len(where.Replicas) != 1 || where.Replicas[0] != eu {
		t.Fatalf("hinted object placed at %+v, want only %s", where, eu)
	}
	cl.must(c.Member(2), http.MethodPost, ns+"/objects/by-name/x/storage/put", map[string]any{"entries": map[string]any{"k": 1}}, nil)

	var made do.Namespace
	cl.must(c.Member(0), http.MethodPost, base, map[string]any{"name": "hooked", "alarm_webhook": "http://127.0.0.1:1/hook",
		"websocket_history": 10}, &made)
	if made.AlarmWebhook != "http://127.0.0.1:1/hook" || made.WebsocketHistory != 10 {
		t.Fatalf("created %+v", made)
	}
	cl.must(c.Member(0), http.MethodPost, base, map[string]any{"name": "history-max", "websocket_history": do.MaxWebsocketHistory}, nil)
	for _, bad := range []map[string]any{
		{"name": "b1", "websocket_history": do.MaxWebsocketHistory + 1},
		{"name": "b2", "websocket_history": -1},
		{"name": "b3", "alarm_webhook": "ftp://x/y"},
		{"name": "b4", "alarm_webhook": "http://" + strings.Repeat("h", do.MaxWebhookBytes)},
		{"name": "b5", "location_hint": ""},
	} {
		cl.expect(c.Member(0), http.MethodPost, base, bad, http.StatusBadRequest, 0)
	}
	// The webhook limit at its edge: a URL of exactly MaxWebhookBytes.
	edge := "http://" + strings.Repeat("h", do.MaxWebhookBytes-len("http://"))
	cl.must(c.Member(0), http.MethodPost, base, map[string]any{"name": "edge", "alarm_webhook": edge}, nil)

	// PATCH: an operator gives a namespace created without a webhook one,
	// and alarms can then be set on its objects; null removes it again.
	var plain do.Namespace
	cl.must(c.Member(0), http.MethodPost, base, map[string]any{"name": "plain"}, &plain)
	item := base + "/" + plain.ID
	alarm := item + "/objects/by-name/o/alarm"
	in := map[string]any{"scheduled_time": time.Now().Add(time.Hour).UnixMilli()}
	cl.expect(c.Member(0), http.MethodPut, alarm, in, http.StatusBadRequest, 0)
	var patched do.Namespace
	cl.must(c.Member(0), http.MethodPatch, item, map[string]any{"alarm_webhook": "http://127.0.0.1:1/later", "websocket_history": 5}, &patched)
	if patched.AlarmWebhook != "http://127.0.0.1:1/later" || patched.WebsocketHistory != 5 || patched.Name != "plain" {
		t.Fatalf("patched: %+v", patched)
	}
	c.WaitFor("every node sees the new webhook", 5*time.Second, func() bool {
		for _, m := range c.Up() {
			var got do.Namespace
			if r, err := cl.do(m, http.MethodGet, item, nil); err != nil || r.status != http.StatusOK ||
				json.Unmarshal(r.env.Result, &got) != nil || got.AlarmWebhook != patched.AlarmWebhook {
				return false
			}
		}
		return true
	})
	cl.must(c.Member(2), http.MethodPut, alarm, in, nil)
	// Refused changes change nothing.
	for _, bad := range []map[string]any{
		{},
		{"location_hint": "us-east"},
		{"name": "renamed"},
		{"alarm_webhook": "ftp://x/y"},
		{"alarm_webhook": edge + "h"},
		{"websocket_history": do.MaxWebsocketHistory + 1},
	} {
		cl.expect(c.Member(0), http.MethodPatch, item, bad, http.StatusBadRequest, 0)
	}
	cl.expect(c.Member(0), http.MethodPatch, base+"/"+strings.Repeat("0", 32), map[string]any{"websocket_history": 1},
		http.StatusNotFound, api.CodeDONamespaceNotFound)
	var still do.Namespace
	cl.must(c.Member(0), http.MethodGet, item, nil, &still)
	if still != patched {
		t.Fatalf("after refused changes: %+v, want %+v", still, patched)
	}
	var cleared do.Namespace
	cl.must(c.Member(0), http.MethodPatch, item, map[string]any{"alarm_webhook": nil}, &cleared)
	if cleared.AlarmWebhook != "" || cleared.WebsocketHistory != 5 {
		t.Fatalf("webhook removed: %+v", cleared)
	}
}

// TestInputGateAndEviction: with a gate of 2, a burst of concurrent
// increments is partly refused with the overloaded envelope (nothing
// written for those), every accepted one counts exactly once; an idle
// object is evicted, and comes back on the next request with its state.
func TestInputGateAndEviction(t *testing.T) {
	c, cl, ns := cluster(t, 1, do.Options{GateSize: 2, IdleTimeout: 2 * time.Second}, nil)
	m := c.Member(0)
	obj := ns + "/objects/by-name/gate"
	cl.must(m, http.MethodPost, obj+"/storage/incr", map[string]any{"key": "n"}, nil) // open it
	const burst = 40
	results := make(chan reply, burst)
	var start sync.WaitGroup
	start.Add(1)
	for range burst {
		go func() {
			start.Wait()
			r, err := cl.do(m, http.MethodPost, obj+"/storage/incr", map[string]any{"key": "n"})
			if err != nil {
				t.Error(err)
			}
			results <- r
		}()
	}
	start.Done()
	ok, overloaded := 0, 0
	for range burst {
		r := <-results
		switch {
		case r.status == http.StatusOK:
			ok++
		case r.status == http.StatusServiceUnavailable && r.code() == api.CodeDOOverloaded:
			overloaded++
		default:
			t.Errorf("unexpected answer %d %+v", r.status, r.env.Errors)
		}
	}
	t.Logf("burst of %d: %d served, %d refused as overloaded", burst, ok, overloaded)
	if overloaded == 0 || ok == 0 {
		t.Fatalf("gate of 2: %d served, %d overloaded; want both", ok, overloaded)
	}
	var got struct {
		Entries map[string]int `json:"entries"`
	}
	cl.must(m, http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{"n"}}, &got)
	if got.Entries["n"] != ok+1 {
		t.Fatalf("counter %d, want %d (served increments + 1)", got.Entries["n"], ok+1)
	}
	if v := cl.metric(m, "edge_do_active_objects"); v != 1 {
		t.Fatalf("edge_do_active_objects = %v, want 1", v)
	}
	c.WaitFor("the idle object is evicted", 15*time.Second, func() bool {
		return cl.metric(m, "edge_do_active_objects") == 0 && cl.metric(m, "edge_do_owned_objects") == 0
	})
	cl.must(m, http.MethodPost, obj+"/storage/get", map[string]any{"keys": []string{"n"}}, &got)
	if got.Entries["n"] != ok+1 {
		t.Fatalf("after eviction: counter %d, want %d", got.Entries["n"], ok+1)
	}
	if v := cl.metric(m, "edge_do_requests_total{op=\"incr\",result=\"ok\""); v != float64(ok+1) {
		t.Errorf("edge_do_requests_total{incr,ok} = %v, want %d", v, ok+1)
	}
	if v := cl.metric(m, "edge_do_ownership_changes_total{change=\"acquired\""); v != 2 {
		t.Errorf("ownership acquired %v times, want 2 (first use, after eviction)", v)
	}
	if v := cl.metric(m, "edge_do_lease_epoch"); v != 1 {
		t.Errorf("edge_do_lease_epoch = %v, want 1", v)
	}
}
