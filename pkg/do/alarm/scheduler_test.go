package alarm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeObjects holds alarms in a map, as objstore would for owned objects.
type fakeObjects struct {
	mu     sync.Mutex
	alarms map[string]int64
	owned  map[string]bool
	clears int
}

func newFakeObjects() *fakeObjects {
	return &fakeObjects{alarms: map[string]int64{}, owned: map[string]bool{}}
}

func (f *fakeObjects) set(obj string, at int64, owned bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms[obj] = at
	f.owned[obj] = owned
}

func (f *fakeObjects) alarm(obj string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.alarms[obj]
}

func (f *fakeObjects) Pending() []Pending {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Pending
	for o, at := range f.alarms {
		if at > 0 {
			out = append(out, Pending{Obj: o, At: at})
		}
	}
	return out
}

func (f *fakeObjects) Owned(_ context.Context, obj string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.owned[obj]
}

func (f *fakeObjects) Current(_ context.Context, obj string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.owned[obj] {
		return 0, ErrNotOwner
	}
	return f.alarms[obj], nil
}

func (f *fakeObjects) Clear(_ context.Context, obj string, at int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.alarms[obj] == at {
		f.alarms[obj] = 0
		f.clears++
	}
	return nil
}

// hook is a webhook on loopback that records deliveries and answers with
// the status that answer picks.
type hook struct {
	mu     sync.Mutex
	got    []Delivery
	times  []time.Time
	answer func(n int) int
	srv    *httptest.Server
}

func newHook(t *testing.T, answer func(n int) int) *hook {
	h := &hook{answer: answer}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d Delivery
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		if r.Header.Get("Idempotency-Key") != d.IdempotencyID {
			t.Errorf("Idempotency-Key %q, body %q", r.Header.Get("Idempotency-Key"), d.IdempotencyID)
		}
		h.mu.Lock()
		h.got = append(h.got, d)
		h.times = append(h.times, time.Now())
		n := len(h.got)
		h.mu.Unlock()
		w.WriteHeader(h.answer(n))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) deliveries() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Delivery(nil), h.got...)
}

// start runs a Scheduler over objs with short timings until the test ends.
func start(t *testing.T, objs Objects, url string, tweak func(*Config)) (*Scheduler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config{
		NodeID:       "n1",
		Webhook:      func(string) string { return url },
		Backoff:      40 * time.Millisecond,
		ScanInterval: 50 * time.Millisecond,
		Timeout:      2 * time.Second,
		Registerer:   reg,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(objs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return s, reg
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const obj = "ns1/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestAlarmFiresOnceAndClears(t *testing.T) {
	objs := newFakeObjects()
	h := newHook(t, func(int) int { return http.StatusNoContent })
	s, reg := start(t, objs, h.srv.URL, nil)
	at := time.Now().Add(100 * time.Millisecond).UnixMilli()
	objs.set(obj, at, true)
	s.Set(obj, at)
	waitFor(t, "delivery and clear", func() bool { return len(h.deliveries()) == 1 && objs.alarm(obj) == 0 })
	if fired := h.times[0]; fired.UnixMilli() < at {
		t.Errorf("fired at %d, before its time %d", fired.UnixMilli(), at)
	}
	time.Sleep(300 * time.Millisecond) // several scans: nothing more may fire
	got := h.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	if d.NamespaceID != "ns1" || d.ObjectID != obj[4:] || d.ScheduledTime != at || d.RetryCount != 0 || d.IsRetry || d.Node != "n1" {
		t.Errorf("delivery %+v", d)
	}
	if d.IdempotencyID != IdempotencyID(obj, at) {
		t.Errorf("idempotency id %q", d.IdempotencyID)
	}
	if v := deliveries(t, reg, resultSuccess); v != 1 {
		t.Errorf("success deliveries %v, want 1", v)
	}
	if s.Scheduled(obj) != 0 {
		t.Errorf("still scheduled after delivery")
	}
}

func TestAlarmRetriesWithBackoff(t *testing.T) {
	objs := newFakeObjects()
	h := newHook(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	s, reg := start(t, objs, h.srv.URL, nil)
	at := time.Now().UnixMilli()
	objs.set(obj, at, true)
	s.Set(obj, at)
	waitFor(t, "three tries and clear", func() bool { return len(h.deliveries()) == 3 && objs.alarm(obj) == 0 })
	got := h.deliveries()
	for i, d := range got {
		if d.RetryCount != i || d.IsRetry != (i > 0) || d.IdempotencyID != got[0].IdempotencyID {
			t.Errorf("try %d: %+v", i, d)
		}
	}
	// Backoff 40 ms then 80 ms (a little slack for timer granularity).
	if gap := h.times[1].Sub(h.times[0]); gap < 35*time.Millisecond {
		t.Errorf("first retry after %v, want >= 40ms", gap)
	}
	if gap := h.times[2].Sub(h.times[1]); gap < 75*time.Millisecond {
		t.Errorf("second retry after %v, want >= 80ms", gap)
	}
	if v := deliveries(t, reg, resultFailure); v != 2 {
		t.Errorf("failure count %v, want 2", v)
	}
}

func TestAlarmGivesUpAfterMaxTries(t *testing.T) {
	objs := newFakeObjects()
	h := newHook(t, func(int) int { return http.StatusBadGateway })
	s, reg := start(t, objs, h.srv.URL, func(c *Config) { c.Backoff = 5 * time.Millisecond })
	at := time.Now().UnixMilli()
	objs.set(obj, at, true)
	s.Set(obj, at)
	waitFor(t, "give up and clear", func() bool { return objs.alarm(obj) == 0 })
	time.Sleep(400 * time.Millisecond)
	if n := len(h.deliveries()); n != DefaultMaxTries {
		t.Fatalf("%d tries, want %d", n, DefaultMaxTries)
	}
	if v := deliveries(t, reg, resultGaveUp); v != 1 {
		t.Errorf("gave_up %v, want 1", v)
	}
	if v := deliveries(t, reg, resultFailure); v != DefaultMaxTries-1 {
		t.Errorf("failure %v, want %d", v, DefaultMaxTries-1)
	}
}

func TestAlarmResetDuringDelivery(t *testing.T) {
	objs := newFakeObjects()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	h := newHook(t, func(n int) int {
		if n == 1 {
			entered <- struct{}{}
			<-release
		}
		return http.StatusOK
	})
	s, _ := start(t, objs, h.srv.URL, nil)
	first := time.Now().UnixMilli()
	objs.set(obj, first, true)
	s.Set(obj, first)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("first delivery never started")
	}
	second := time.Now().Add(150 * time.Millisecond).UnixMilli()
	objs.set(obj, second, true) // the owner writes the new alarm, then tells the scheduler
	s.Set(obj, second)
	close(release)
	waitFor(t, "second delivery", func() bool { return len(h.deliveries()) == 2 })
	got := h.deliveries()
	if got[0].ScheduledTime != first || got[1].ScheduledTime != second {
		t.Fatalf("delivered %d then %d, want %d then %d", got[0].ScheduledTime, got[1].ScheduledTime, first, second)
	}
	waitFor(t, "clear of the second", func() bool { return objs.alarm(obj) == 0 })
	objs.mu.Lock()
	clears := objs.clears
	objs.mu.Unlock()
	if clears != 1 {
		t.Errorf("%d clears, want 1 (the first delivery must not clear the new alarm)", clears)
	}
}

func TestAlarmNewOwnerPicksUpStoredAlarm(t *testing.T) {
	objs := newFakeObjects()
	h := newHook(t, func(int) int { return http.StatusOK })
	const other = "ns1/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	at := time.Now().UnixMilli()
	objs.set(obj, at, true)    // owned here: must fire without Set
	objs.set(other, at, false) // a replica copy: must not
	start(t, objs, h.srv.URL, nil)
	waitFor(t, "delivery found by the scan", func() bool { return objs.alarm(obj) == 0 })
	time.Sleep(200 * time.Millisecond)
	got := h.deliveries()
	if len(got) != 1 || got[0].ObjectID != obj[4:] {
		t.Fatalf("deliveries %+v, want only %s", got, obj)
	}
	if objs.alarm(other) != at {
		t.Errorf("the replica copy's alarm was touched")
	}
	objs.mu.Lock()
	objs.owned[other] = true // failover: this node now owns it
	objs.mu.Unlock()
	waitFor(t, "delivery after ownership moved here", func() bool { return objs.alarm(other) == 0 })
}

func TestAlarmDeleteBeforeDue(t *testing.T) {
	objs := newFakeObjects()
	h := newHook(t, func(int) int { return http.StatusOK })
	s, _ := start(t, objs, h.srv.URL, nil)
	at := time.Now().Add(150 * time.Millisecond).UnixMilli()
	objs.set(obj, at, true)
	s.Set(obj, at)
	objs.set(obj, 0, true)
	s.Delete(obj)
	time.Sleep(400 * time.Millisecond)
	if n := len(h.deliveries()); n != 0 {
		t.Fatalf("%d deliveries of a deleted alarm", n)
	}
}

func TestAlarmLostOwnershipIsNotDelivered(t *testing.T) {
	objs := newFakeObjects()
	h := newHook(t, func(int) int { return http.StatusOK })
	s, _ := start(t, objs, h.srv.URL, func(c *Config) { c.ScanInterval = time.Hour })
	at := time.Now().Add(100 * time.Millisecond).UnixMilli()
	objs.set(obj, at, true)
	s.Set(obj, at)
	objs.mu.Lock()
	objs.owned[obj] = false
	objs.mu.Unlock()
	time.Sleep(400 * time.Millisecond)
	if n := len(h.deliveries()); n != 0 {
		t.Fatalf("delivered by a node that lost the object")
	}
	if objs.alarm(obj) != at {
		t.Errorf("a non-owner cleared the alarm")
	}
}

func TestValidateWebhook(t *testing.T) {
	long := "http://h/" + string(make([]byte, MaxWebhookURL))
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"http://127.0.0.1:9/alarm", true},
		{"https://hooks.example.com/x?y=1", true},
		{"ftp://h/x", false},
		{"/relative", false},
		{"http://", false},
		{"http://h/x#frag", false},
		{"javascript:alert(1)", false},
		{long, false},
	} {
		if err := ValidateWebhook(tc.url); (err == nil) != tc.ok {
			t.Errorf("ValidateWebhook(%.40q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

// deliveries reads edge_do_alarm_deliveries_total{result} from reg.
func deliveries(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "edge_do_alarm_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no edge_do_alarm_deliveries_total{result=%q}", result)
	return 0
}
