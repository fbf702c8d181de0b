package d1_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/d1"
)

// regInput is one operation on a register (a row of table kv).
type regInput struct {
	key   int
	write bool
	value int
}

// regOutput is what a read returned; a write has none.
type regOutput struct{ value int }

// registerModel is a register per key, starting at 0: a write sets it, a
// read must return it. Each key is checked on its own (Partition).
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(regInput).key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.write {
			return true, in.value
		}
		return output.(regOutput).value == state.(int), state
	},
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.write {
			return fmt.Sprintf("put(%d, %d)", in.key, in.value)
		}
		return fmt.Sprintf("get(%d) -> %d", in.key, output.(regOutput).value)
	},
}

// history records operations with call and return times. A write whose
// outcome is unknown (an error, a timeout, a 5xx) may have been applied at
// any moment after its call, even after every other operation: it returns
// at "infinity". A failed read changed nothing and is left out.
type history struct {
	mu  sync.Mutex
	t0  time.Time
	ops []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.t0)) }

// counts returns the acknowledged writes and the reads recorded so far.
func (h *history) counts() (acked, reads int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, op := range h.ops {
		switch {
		case !op.Input.(regInput).write:
			reads++
		case op.Return != math.MaxInt64:
			acked++
		}
	}
	return acked, reads
}

func (h *history) add(client int, in regInput, out regOutput, call, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret})
}

// countUnknown counts the writes whose outcome is unknown.
func countUnknown(h *history) int {
	n := 0
	for _, op := range h.ops {
		if op.Input.(regInput).write && op.Return == math.MaxInt64 {
			n++
		}
	}
	return n
}

// regDB is a table of registers in a D1 database of a cluster.
type regDB struct {
	cl   client
	id   string
	path string
	keys int
}

func newRegDB(t *testing.T, c *testcluster.Cluster, name string, keys int) regDB {
	cl := client{t, c}
	base := "/client/v4/accounts/" + accountID(t, c) + "/d1/database"
	db := createDB(t, cl, c.Member(0), base, name)
	q := base + "/" + db.UUID + "/query"
	cl.must(c.Member(0), http.MethodPost, q, map[string]any{"sql": "CREATE TABLE kv(k INTEGER PRIMARY KEY, v INTEGER NOT NULL)"}, nil)
	for k := range keys {
		cl.must(c.Member(0), http.MethodPost, q, map[string]any{"sql": "INSERT OR IGNORE INTO kv VALUES (?, 0)", "params": []any{k}}, nil)
	}
	return regDB{cl: cl, id: db.UUID, path: q, keys: keys}
}

// createDB creates database name through m. A create answered 503 may have
// been applied: a retry that finds the name taken looks the database up.
func createDB(t *testing.T, cl client, m *testcluster.Member, base, name string) d1.Database {
	t.Helper()
	var db d1.Database
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r, err := cl.do(m, http.MethodPost, base, map[string]string{"name": name})
		if err == nil && r.status == http.StatusOK && json.Unmarshal(r.env.Result, &db) == nil {
			return db
		}
		if err == nil && r.status == http.StatusBadRequest {
			var all []d1.Database
			cl.must(m, http.MethodGet, base, nil, &all)
			for _, d := range all {
				if d.Name == name {
					return d
				}
			}
		}
	}
	t.Fatalf("could not create database %s", name)
	return db
}

// write sets key to value through m; ok means acknowledged.
func (r regDB) write(m *testcluster.Member, key, value int) bool {
	rep, err := r.cl.do(m, http.MethodPost, r.path, map[string]any{"sql": "UPDATE kv SET v = ? WHERE k = ?", "params": []any{value, key}})
	if os.Getenv("D1_DEBUG") != "" && (err != nil || rep.status != 200) {
		fmt.Println("write fail", m.ID, time.Now().Format("15:04:05.000"), rep.status, rep.env.Errors, err)
	}
	return err == nil && rep.status == http.StatusOK && rep.env.Success
}

// read returns key's value through m, strong or from m's replica.
func (r regDB) read(m *testcluster.Member, key int, strong bool) (int, bool) {
	path := r.path
	if strong {
		path += "?consistency=strong"
	}
	rep, err := r.cl.do(m, http.MethodPost, path, map[string]any{"sql": "SELECT v FROM kv WHERE k = ?", "params": []any{key}})
	if err != nil || rep.status != http.StatusOK || !rep.env.Success {
		if os.Getenv("D1_DEBUG") != "" {
			fmt.Println("read fail", m.ID, rep.status, rep.env.Errors, err)
		}
		return 0, false
	}
	var out []struct {
		Results []struct {
			V int `json:"v"`
		} `json:"results"`
	}
	if json.Unmarshal(rep.env.Result, &out) != nil || len(out) != 1 || len(out[0].Results) != 1 {
		return 0, false
	}
	return out[0].Results[0].V, true
}

// checkLinearizable runs porcupine over h (Unknown if it takes over a
// minute). A history that is not linearizable is drawn (porcupine's
// visualization) into a file kept after the test, and its path logged.
func checkLinearizable(t *testing.T, h *history) porcupine.CheckResult {
	res, info := porcupine.CheckOperationsVerbose(registerModel, h.ops, 60*time.Second)
	if res == porcupine.Illegal {
		f, err := os.CreateTemp("", "d1-linearizability-*.html")
		if err == nil {
			err = porcupine.Visualize(registerModel, info, f)
			_ = f.Close()
		}
		if err != nil {
			t.Logf("drawing the history: %v", err)
		} else {
			t.Logf("the history is drawn in %s", f.Name())
		}
		if os.Getenv("D1_DEBUG") != "" {
			ops := slices.Clone(h.ops)
			slices.SortFunc(ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
			for _, op := range ops {
				ret := "?"
				if op.Return != math.MaxInt64 {
					ret = fmt.Sprint(time.Duration(op.Return).Milliseconds())
				}
				fmt.Printf("c%d node%d %6d..%6s %s\n", op.ClientId, op.ClientId%3, time.Duration(op.Call).Milliseconds(), ret,
					registerModel.DescribeOperation(op.Input, op.Output))
			}
		}
	}
	return res
}

// Strong reads and writes through every node stay linearizable while the
// leader is killed (-9) and restarted, and while a node (the leader at that
// moment) is cut off and healed.
func TestLinearizableUnderLeaderKillAndPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster fault schedule")
	}
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	db := newRegDB(t, c, "linear", 10)
	h := &history{t0: time.Now()}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var nextValue sync.Mutex
	value := 0
	const clientsPerNode = 3
	for i := range 3 * clientsPerNode {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; n < 2000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				m := c.Member(i % 3)
				if m.Node() == nil { // killed: its clients wait for the restart
					time.Sleep(50 * time.Millisecond)
					continue
				}
				key := rng.IntN(db.keys)
				call := h.now()
				if rng.IntN(2) == 0 {
					nextValue.Lock()
					value++
					v := value
					nextValue.Unlock()
					ret := int64(math.MaxInt64)
					if db.write(m, key, v) {
						ret = h.now()
					}
					h.add(i, regInput{key: key, write: true, value: v}, regOutput{}, call, ret)
				} else if v, ok := db.read(m, key, true); ok {
					h.add(i, regInput{key: key}, regOutput{value: v}, call, h.now())
				}
				if os.Getenv("D1_DEBUG") != "" && time.Duration(h.now()-call) > 500*time.Millisecond {
					fmt.Println("slow op", m.ID, time.Now().Format("15:04:05.000"), time.Duration(h.now()-call))
				}
				time.Sleep(time.Duration(rng.IntN(10)) * time.Millisecond)
			}
		}()
	}

	// The fault schedule: kill the leader, restart it; cut the (new)
	// leader off, heal.
	time.Sleep(time.Second)
	leader := c.WaitLeader(10 * time.Second)
	acked, reads := h.counts()
	t.Logf("before the faults: %d acknowledged writes, %d strong reads", acked, reads)
	li := c.Index(leader)
	c.Kill(li)
	t.Logf("killed leader %s at %v", leader.ID, time.Duration(h.now()).Round(time.Millisecond))
	c.WaitFor("a new leader", 10*time.Second, func() bool {
		l := c.Leader()
		return l != nil && l.ID != leader.ID
	})
	time.Sleep(time.Second)
	c.Restart(li)
	t.Logf("restarted %s at %v", leader.ID, time.Duration(h.now()).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	cut := c.WaitLeader(10 * time.Second)
	ci := c.Index(cut)
	c.Isolate(ci)
	t.Logf("isolated leader %s at %v", cut.ID, time.Duration(h.now()).Round(time.Millisecond))
	time.Sleep(2500 * time.Millisecond)
	c.Heal()
	t.Logf("healed at %v", time.Duration(h.now()).Round(time.Millisecond))
	// Go on, healed, until the history is large enough to judge (bounded:
	// a loaded machine answers slowly).
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if w, r := h.counts(); w >= 60 && r >= 60 {
			break
		}
	}
	close(stop)
	wg.Wait()

	acked, reads = h.counts()
	t.Logf("history: %d writes (%d acknowledged), %d strong reads", acked+countUnknown(h), acked, reads)
	if acked < 30 || reads < 30 {
		t.Fatalf("too few operations to judge: %d acknowledged writes, %d reads", acked, reads)
	}
	if res := checkLinearizable(t, h); res != porcupine.Ok {
		t.Fatalf("history of strong reads and writes is %s, not linearizable", res)
	}
}

// The checker catches a stale read: reads served by a replica cut off
// from the leader (the path a strong read must not take) miss a write
// acknowledged before they started, and porcupine rejects the history;
// the same reads sent with consistency=strong are refused instead.
func TestLinearizabilityCheckRejectsStaleReplicaReads(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster")
	}
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	db := newRegDB(t, c, "stale", 1)
	leader := c.WaitLeader(10 * time.Second)
	li := c.Index(leader)
	lag := (li + 1) % 3
	waitConverged(t, c, db.id)
	h := &history{t0: time.Now()}

	c.Isolate(lag)
	call := h.now()
	if !db.write(leader, 0, 1) {
		t.Fatal("write through the leader failed")
	}
	h.add(0, regInput{key: 0, write: true, value: 1}, regOutput{}, call, h.now())

	// Strong: refused on the cut-off node (it cannot reach the leader).
	if v, ok := db.read(c.Member(lag), 0, true); ok {
		t.Fatalf("strong read on a node cut off from the leader answered %d", v)
	}
	// Plain replica read: answers its stale value.
	call = h.now()
	v, ok := db.read(c.Member(lag), 0, false)
	if !ok {
		t.Fatal("replica read failed")
	}
	h.add(1, regInput{key: 0}, regOutput{value: v}, call, h.now())
	if v != 0 {
		t.Fatalf("the cut-off replica already had the write (%d)", v)
	}
	if res := checkLinearizable(t, h); res != porcupine.Illegal {
		t.Fatalf("a stale replica read passed the check: %s", res)
	}
	c.Heal()
}
