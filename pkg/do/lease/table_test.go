package lease

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestTableApplyRules(t *testing.T) {
	tb := NewTable()
	reg := tb.Apply(Command{Op: OpRegister, Node: "a", Region: "r1", Now: 1000, Expiration: 7000})
	if !reg.Accepted || reg.Record.Epoch != 1 || reg.Record.Expiration != 7000 {
		t.Fatalf("register: %+v", reg)
	}
	if r := tb.Apply(Command{Op: OpRenew, Node: "a", Epoch: 2, Now: 2000, Expiration: 8000}); r.Accepted {
		t.Fatal("renewal of a wrong epoch accepted")
	}
	if r := tb.Apply(Command{Op: OpRenew, Node: "a", Epoch: 1, Now: 2000, Expiration: 6000}); r.Accepted {
		t.Fatal("renewal moving the expiration back accepted")
	}
	if r := tb.Apply(Command{Op: OpRenew, Node: "a", Epoch: 1, Now: 2000, Expiration: 8000}); !r.Accepted {
		t.Fatal("valid renewal refused")
	}
	// An increment whose view is stale (expiration moved) or that is not
	// past the expiration by its own timestamp changes nothing.
	if r := tb.Apply(Command{Op: OpIncrement, Node: "a", Epoch: 1, PrevExpiration: 7000, Now: 9000}); r.Accepted {
		t.Fatal("increment on a stale view accepted")
	}
	if r := tb.Apply(Command{Op: OpIncrement, Node: "a", Epoch: 1, PrevExpiration: 8000, Now: 8000}); r.Accepted {
		t.Fatal("increment at the expiration accepted")
	}
	r := tb.Apply(Command{Op: OpIncrement, Node: "a", Epoch: 1, PrevExpiration: 8000, Now: 8001})
	if !r.Accepted || r.Record.Epoch != 2 || !r.Record.Dead {
		t.Fatalf("increment: %+v", r)
	}
	if r := tb.Apply(Command{Op: OpRenew, Node: "a", Epoch: 2, Now: 9000, Expiration: 15000}); r.Accepted {
		t.Fatal("a dead node renewed without registering")
	}
	if r := tb.Apply(Command{Op: OpRegister, Node: "a", Now: 9000, Expiration: 15000}); !r.Accepted || r.Record.Epoch != 3 || r.Record.Dead {
		t.Fatalf("re-register: %+v", r)
	}
	// Snapshot and restore give the same table.
	var buf bytes.Buffer
	if err := tb.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	tb2 := NewTable()
	if err := tb2.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(tb.Records())
	b, _ := json.Marshal(tb2.Records())
	if !bytes.Equal(a, b) {
		t.Fatalf("restore differs: %s vs %s", a, b)
	}
}

func TestCommandValidate(t *testing.T) {
	bad := []Command{
		{Op: OpRegister, Node: "", Now: 1, Expiration: 2},
		{Op: OpRegister, Node: "a", Now: 1, Expiration: 1},
		{Op: OpRegister, Node: "a", Now: 1, Expiration: 2 + MaxLeaseMillis},
		{Op: OpRenew, Node: "a", Now: 1, Expiration: 2},
		{Op: OpIncrement, Node: "a", Now: 1},
		{Op: "x", Node: "a", Now: 1},
		{Op: OpRegister, Node: "a", Expiration: 2},
		{Op: OpRegister, Node: "\xff", Now: 1, Expiration: 2},
	}
	for i, c := range bad {
		if c.Validate() == nil {
			t.Errorf("command %d %+v passed validation", i, c)
		}
	}
	if err := (Command{Op: OpRegister, Node: "a", Now: 1, Expiration: 1 + MaxLeaseMillis}).Validate(); err != nil {
		t.Errorf("lease at the limit refused: %v", err)
	}
}

// TestManagersTakeOver runs two managers over one table (proposals applied
// in one order, as Raft would): b declares a dead once a stops renewing,
// and a that comes back registers a new epoch and waits a full period.
func TestManagersTakeOver(t *testing.T) {
	tb := NewTable()
	var mu sync.Mutex
	blocked := map[string]bool{}
	propose := func(node string) func(context.Context, []byte) ([]byte, error) {
		return func(_ context.Context, p []byte) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			if blocked[node] {
				return nil, context.DeadlineExceeded
			}
			c, err := DecodeCommand(p)
			if err != nil {
				return nil, err
			}
			return json.Marshal(tb.Apply(c))
		}
	}
	period := 600 * time.Millisecond
	mk := func(node string) *Manager {
		m, err := NewManager(Config{Node: node, Table: tb, Propose: propose(node), Period: period, MaxOffset: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := mk("a"), mk("b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	go b.Run(ctx)
	waitFor(t, 5*time.Second, func() bool { return a.Status().Valid(time.Now()) && b.Status().Valid(time.Now()) })
	if st := a.Status(); st.ServingFrom.IsZero() {
		t.Fatal("no warm-up recorded")
	}
	mu.Lock()
	blocked["a"] = true
	mu.Unlock()
	cut := time.Now()
	waitFor(t, 5*time.Second, func() bool { r, _ := tb.Get("a"); return r.Dead })
	// a stopped serving before it was declared dead.
	st := a.Status()
	if st.Valid(time.Now()) {
		t.Fatal("a still valid after it was declared dead")
	}
	if took := time.Since(cut); took > 3*period {
		t.Fatalf("declared dead after %v, want under %v", took, 3*period)
	}
	mu.Lock()
	blocked["a"] = false
	mu.Unlock()
	waitFor(t, 5*time.Second, func() bool { return a.Status().Epoch == 3 })
	st = a.Status()
	if st.Valid(time.Now()) && time.Now().Before(st.ServingFrom) {
		t.Fatal("valid during warm-up")
	}
	if st.ServingFrom.Sub(time.Now()) < period/2 {
		t.Fatalf("warm-up ends in %v, want about %v", time.Until(st.ServingFrom), period)
	}
	waitFor(t, 5*time.Second, func() bool { return a.Status().Valid(time.Now()) })
}

func waitFor(t *testing.T, d time.Duration, f func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatal("condition not met in time")
}

// TestLostRegistrationIsAdopted: a registration whose proposal timed out
// but applied anyway is adopted by the next round, not replaced by yet
// another epoch (which would restart the warm-up forever on a slow log).
func TestLostRegistrationIsAdopted(t *testing.T) {
	tb := NewTable()
	var mu sync.Mutex
	lose := true
	propose := func(_ context.Context, p []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		c, err := DecodeCommand(p)
		if err != nil {
			return nil, err
		}
		res := tb.Apply(c)
		if lose {
			lose = false
			return nil, context.DeadlineExceeded // applied, answer lost
		}
		return json.Marshal(res)
	}
	m, err := NewManager(Config{Node: "a", Table: tb, Propose: propose, Period: 600 * time.Millisecond, MaxOffset: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m.round(ctx) // registers; the answer is lost
	if m.Status().Epoch != 0 {
		t.Fatal("epoch known without an answer")
	}
	m.round(ctx) // adopts epoch 1 and renews it
	if st := m.Status(); st.Epoch != 1 {
		t.Fatalf("epoch %d after the lost registration, want 1 (adopted)", st.Epoch)
	}
	if r, _ := tb.Get("a"); r.Epoch != 1 {
		t.Fatalf("table epoch %d, want 1", r.Epoch)
	}
}

// TestForgetDropsADeadRecordAndKeepsItsEpoch: only a dead record with the
// expected epoch is forgotten; the node then registers above every epoch it
// held, also after a snapshot round trip; a table that never forgot writes
// the snapshot version older nodes read.
func TestForgetDropsADeadRecordAndKeepsItsEpoch(t *testing.T) {
	tb := NewTable()
	tb.Apply(Command{Op: OpRegister, Node: "a", Now: 1000, Expiration: 2000})
	tb.Apply(Command{Op: OpRegister, Node: "b", Now: 1000, Expiration: 2000})
	var v1 bytes.Buffer
	if err := tb.Snapshot(&v1); err != nil || !bytes.Contains(v1.Bytes(), []byte(`"version":1`)) {
		t.Fatalf("snapshot without a forgotten record: %s %v", v1.Bytes(), err)
	}
	if r := tb.Apply(Command{Op: OpForget, Node: "a", Epoch: 1, Now: 3000}); r.Accepted {
		t.Fatal("a live record forgotten")
	}
	tb.Apply(Command{Op: OpIncrement, Node: "a", Epoch: 1, PrevExpiration: 2000, Now: 2001}) // dead, epoch 2
	if r := tb.Apply(Command{Op: OpForget, Node: "a", Epoch: 1, Now: 3000}); r.Accepted {
		t.Fatal("forgotten on a stale epoch")
	}
	if r := tb.Apply(Command{Op: OpForget, Node: "zz", Epoch: 1, Now: 3000}); r.Accepted {
		t.Fatal("an unknown node forgotten")
	}
	changed := tb.Changed()
	if r := tb.Apply(Command{Op: OpForget, Node: "a", Epoch: 2, Now: 3000}); !r.Accepted {
		t.Fatal("dead record not forgotten")
	}
	select {
	case <-changed:
	default:
		t.Fatal("forget did not signal a change")
	}
	if _, ok := tb.Get("a"); ok || len(tb.Records()) != 1 || tb.Floor() != 2 {
		t.Fatalf("after forget: %+v floor %d", tb.Records(), tb.Floor())
	}
	var buf bytes.Buffer
	if err := tb.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	tb2 := NewTable()
	if err := tb2.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if tb2.Floor() != 2 {
		t.Fatalf("restored floor %d", tb2.Floor())
	}
	for _, x := range []*Table{tb, tb2} {
		if r := x.Apply(Command{Op: OpRegister, Node: "a", Now: 4000, Expiration: 5000}); !r.Accepted || r.Record.Epoch != 3 {
			t.Fatalf("a returns: %+v", r)
		}
		// Other nodes' epochs also start above the floor; b's own moves on.
		if r := x.Apply(Command{Op: OpRegister, Node: "c", Now: 4000, Expiration: 5000}); r.Record.Epoch != 3 {
			t.Fatalf("c: %+v", r)
		}
	}
	if err := NewTable().Restore(bytes.NewReader(v1.Bytes())); err != nil {
		t.Fatalf("version 1 snapshot: %v", err)
	}
	if err := NewTable().Restore(bytes.NewReader([]byte(`{"version":3,"records":[]}`))); err == nil {
		t.Fatal("unknown snapshot version restored")
	}
	if (Command{Op: OpForget, Node: "a", Now: 1}).Validate() == nil {
		t.Fatal("forget without an epoch passed validation")
	}
}

// TestSweepForgetsOnlyDeadNodesThatAreGone: the sweep forgets a dead record
// whose node Gone names, and no live one or one still in the cluster.
func TestSweepForgetsOnlyDeadNodesThatAreGone(t *testing.T) {
	tb := NewTable()
	now := time.Now()
	exp := now.Add(time.Minute).UnixMilli()
	for _, n := range []string{"m", "alive", "gone", "down"} {
		tb.Apply(Command{Op: OpRegister, Node: n, Now: now.UnixMilli(), Expiration: now.Add(time.Second).UnixMilli()})
	}
	tb.Apply(Command{Op: OpRenew, Node: "alive", Epoch: 1, Now: now.UnixMilli(), Expiration: exp})
	for _, n := range []string{"gone", "down"} {
		rec, _ := tb.Get(n)
		tb.Apply(Command{Op: OpIncrement, Node: n, Epoch: 1, PrevExpiration: rec.Expiration, Now: rec.Expiration + 1})
	}
	propose := func(_ context.Context, p []byte) ([]byte, error) {
		c, err := DecodeCommand(p)
		if err != nil {
			return nil, err
		}
		return json.Marshal(tb.Apply(c))
	}
	gone := map[string]bool{"m": true, "alive": true, "gone": true}
	m, err := NewManager(Config{Node: "m", Table: tb, Propose: propose, Gone: func(n string) bool { return gone[n] }})
	if err != nil {
		t.Fatal(err)
	}
	m.sweep(context.Background())
	for n, want := range map[string]bool{"m": true, "alive": true, "gone": false, "down": true} {
		if _, ok := tb.Get(n); ok != want {
			t.Errorf("%s: kept %v, want %v", n, ok, want)
		}
	}
	if tb.Floor() != 2 {
		t.Errorf("floor %d, want the forgotten epoch 2", tb.Floor())
	}
}
