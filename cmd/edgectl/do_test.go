package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/client"
)

// doEnv starts a one-node cluster and returns the global flags for it.
func doEnv(t *testing.T) []string {
	t.Helper()
	c := testcluster.Start(t, testcluster.Options{Nodes: 1, Voters: 1})
	if c.Member(0).URL()[:5] == "https" {
		t.Skip("edgectl's CA flags are covered by the TLS tests")
	}
	return []string{"--endpoint", c.Member(0).URL(), "--token", c.Token(), "--timeout", "20s"}
}

// jsonOut runs a command with -o json that must succeed and decodes stdout.
func jsonOut(t *testing.T, v any, args ...string) {
	t.Helper()
	out := mustKV(t, "", append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("edgectl %v: stdout %q is not the JSON expected: %v", args, out, err)
	}
}

func TestDOCommandsAgainstANode(t *testing.T) {
	g := doEnv(t)
	var ns struct{ ID, Name string }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		out, errOut, code := runKV(t, "", append(g, "do", "namespace", "create", "counters", "--websocket-history", "5", "-o", "json")...)
		if code == 0 {
			if err := json.Unmarshal([]byte(out), &ns); err != nil {
				t.Fatal(err)
			}
			break
		}
		if !strings.Contains(errOut, "HTTP 503") || time.Now().After(deadline) {
			t.Fatalf("namespace create: %s", errOut)
		}
	}
	if ns.ID == "" || ns.Name != "counters" {
		t.Fatalf("create: %+v", ns)
	}
	if out := mustKV(t, "", append(g, "do", "namespace", "list")...); !strings.Contains(out, ns.ID) || !strings.Contains(out, "counters") {
		t.Fatalf("list:\n%s", out)
	}
	// The first request may wait for the node's liveness lease.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, errOut, code := runKV(t, "", append(g, "do", "put", "counters", "room-1", "greeting", "hello")...)
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("put never succeeded: %s", errOut)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var got struct {
		Key      string          `json:"key"`
		Value    json.RawMessage `json:"value"`
		ServedBy string          `json:"served_by"`
	}
	jsonOut(t, &got, append(g, "do", "get", "counters", "room-1", "greeting")...)
	if got.Key != "greeting" || string(got.Value) != `"hello"` || got.ServedBy == "" {
		t.Fatalf("get: %+v", got)
	}
	jsonOut(t, &got, append(g, "do", "get", ns.ID, "room-1", "absent")...) // NS by id too
	if string(got.Value) != "null" {
		t.Fatalf("absent key: %+v", got)
	}
	if _, _, code := runKV(t, "", append(g, "do", "get", "counters", "room-1", "absent")...); code == 0 {
		t.Fatal("get of an absent key (table) exited 0")
	}
	for want := 1; want <= 2; want++ {
		var inc struct {
			Value    json.Number `json:"value"`
			ServedBy string      `json:"served_by"`
		}
		jsonOut(t, &inc, append(g, "do", "incr", "counters", "room-1", "hits")...)
		if inc.Value.String() != []string{"", "1", "2"}[want] || inc.ServedBy == "" {
			t.Fatalf("incr %d: %+v", want, inc)
		}
	}
	var inc struct{ Value json.Number }
	jsonOut(t, &inc, append(g, "do", "incr", "counters", "room-1", "hits", "--by", "-5")...)
	if inc.Value.String() != "-3" {
		t.Fatalf("incr --by -5: %v", inc.Value)
	}
	mustKV(t, "", append(g, "do", "put", "counters", "room-1", "cfg", `{"a":[1,2]}`)...)
	var list struct {
		Entries []struct {
			Key   string
			Value json.RawMessage
		}
	}
	jsonOut(t, &list, append(g, "do", "list", "counters", "room-1", "--prefix", "c")...)
	if len(list.Entries) != 1 || list.Entries[0].Key != "cfg" || compact(t, list.Entries[0].Value) != `{"a":[1,2]}` {
		t.Fatalf("list --prefix c: %+v", list)
	}
	var where struct {
		ID       string   `json:"id"`
		Owner    string   `json:"owner"`
		Replicas []string `json:"replicas"`
		Epoch    uint64   `json:"epoch"`
	}
	jsonOut(t, &where, append(g, "do", "where", "counters", "room-1")...)
	if len(where.ID) != 64 || where.Owner == "" || len(where.Replicas) != 1 || where.Epoch == 0 {
		t.Fatalf("where: %+v", where)
	}
	// The same object by id.
	jsonOut(t, &got, append(g, "do", "get", "counters", where.ID, "greeting", "--id")...)
	if string(got.Value) != `"hello"` {
		t.Fatalf("get --id: %+v", got)
	}
	if _, errOut, code := runKV(t, "", append(g, "do", "get", "counters", "room-1", "greeting", "--id")...); code == 0 || !strings.Contains(errOut, "not an object id") {
		t.Fatalf("--id with a name: exit %d %q", code, errOut)
	}
	var del struct{ Deleted int }
	jsonOut(t, &del, append(g, "do", "delete", "counters", "room-1", "greeting", "cfg", "nope")...)
	if del.Deleted != 2 {
		t.Fatalf("delete: %+v", del)
	}
	// Alarms need a webhook: refused with the namespace's code otherwise.
	if _, errOut, code := runKV(t, "", append(g, "do", "alarm", "set", "counters", "room-1", "--in", "1h")...); code == 0 || !strings.Contains(errOut, "alarm_webhook") {
		t.Fatalf("alarm without webhook: exit %d %q", code, errOut)
	}
	// The namespace gets a webhook without being recreated; then alarms work.
	var upd client.DONamespace
	jsonOut(t, &upd, append(g, "do", "namespace", "update", "counters", "--alarm-webhook", "http://127.0.0.1:9/later", "--websocket-history", "3")...)
	if upd.AlarmWebhook != "http://127.0.0.1:9/later" || upd.WebsocketHistory != 3 || upd.Name != "counters" {
		t.Fatalf("update: %+v", upd)
	}
	if _, errOut, code := runKV(t, "", append(g, "do", "namespace", "update", "counters")...); code == 0 || !strings.Contains(errOut, "nothing to change") {
		t.Fatalf("update without flags: exit %d %q", code, errOut)
	}
	if _, errOut, code := runKV(t, "", append(g, "do", "namespace", "update", "counters", "--alarm-webhook", "ftp://x")...); code == 0 || !strings.Contains(errOut, "alarm_webhook") {
		t.Fatalf("update with a bad webhook: exit %d %q", code, errOut)
	}
	var cleared client.DONamespace
	jsonOut(t, &cleared, append(g, "do", "namespace", "update", "counters", "--alarm-webhook", "")...)
	if cleared.AlarmWebhook != "" || cleared.WebsocketHistory != 3 {
		t.Fatalf("webhook removed: %+v", cleared)
	}
	jsonOut(t, &ns, append(g, "do", "namespace", "create", "timers", "--alarm-webhook", "http://127.0.0.1:9/alarm")...)
	var al struct {
		ScheduledTime *int64 `json:"scheduled_time"`
		Deleted       *bool  `json:"deleted"`
	}
	at := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	jsonOut(t, &al, append(g, "do", "alarm", "set", "timers", "t1", "--at", at.Format(time.RFC3339))...)
	if al.ScheduledTime == nil || *al.ScheduledTime != at.UnixMilli() {
		t.Fatalf("alarm set: %+v", al)
	}
	jsonOut(t, &al, append(g, "do", "alarm", "get", "timers", "t1")...)
	if al.ScheduledTime == nil || *al.ScheduledTime != at.UnixMilli() {
		t.Fatalf("alarm get: %+v", al)
	}
	jsonOut(t, &al, append(g, "do", "alarm", "delete", "timers", "t1")...)
	if al.Deleted == nil || !*al.Deleted {
		t.Fatalf("alarm delete: %+v", al)
	}
	jsonOut(t, &al, append(g, "do", "alarm", "get", "timers", "t1")...)
	if al.ScheduledTime != nil {
		t.Fatalf("alarm after delete: %+v", al)
	}
	mustKV(t, "", append(g, "do", "namespace", "delete", "timers")...)
	if _, errOut, code := runKV(t, "", append(g, "do", "get", "timers", "t1", "k")...); code == 0 || !strings.Contains(errOut, "not found") {
		t.Fatalf("deleted namespace: exit %d %q", code, errOut)
	}
}

// compact is raw JSON without the indentation of -o json.
func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDOIncrNotAcknowledgedExitsNonZero(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/durable_objects/namespaces"):
			w.Write([]byte(`{"success":true,"errors":[],"messages":[],"result":[{"id":"ns1","name":"c"}]}`))
		case strings.HasSuffix(r.URL.Path, "/storage/incr"):
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"success":false,"errors":[{"code":1211,"message":"the durable object moved while the request ran"}],"messages":[],"result":null}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	out, errOut, code := runKV(t, "", "--endpoint", srv.URL, "--token", "t", "do", "--account", "a1", "incr", "c", "x", "k", "-o", "json")
	if code == 0 || out != "" || !strings.Contains(errOut, "1211") {
		t.Fatalf("unacknowledged incr: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestDOAlarmTime(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if got, err := alarmTime("", 30*time.Second, now); err != nil || !got.Equal(now.Add(30*time.Second)) {
		t.Fatalf("--in 30s: %v %v", got, err)
	}
	if got, err := alarmTime("2030-01-02T03:04:05Z", 0, now); err != nil || !got.Equal(now) {
		t.Fatalf("--at: %v %v", got, err)
	}
	for _, c := range []struct {
		at string
		in time.Duration
	}{{"", 0}, {"x", 0}, {"2030-01-02T03:04:05Z", time.Second}, {"", -time.Second}} {
		if _, err := alarmTime(c.at, c.in, now); err == nil {
			t.Errorf("alarmTime(%q, %v) accepted", c.at, c.in)
		}
	}
}
