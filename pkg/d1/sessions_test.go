package d1_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/d1"
)

// session is a client that passes back the newest bookmark it was given.
type session struct {
	cl       client
	q        string
	bookmark string
}

func (s *session) send(m *testcluster.Member, body any, hdr ...string) (reply, error) {
	if s.bookmark != "" {
		hdr = append(hdr, d1.HeaderBookmark, s.bookmark)
	}
	r, err := s.cl.do(m, http.MethodPost, s.q, body, hdr...)
	if err == nil && r.status == http.StatusOK {
		if b := r.header.Get(d1.HeaderBookmark); b > s.bookmark {
			s.bookmark = b
		}
	}
	return r, err
}

// value reads row 1's v from an answer.
func value(t *testing.T, r reply) int {
	t.Helper()
	var out []struct {
		Results []struct {
			V int `json:"v"`
		} `json:"results"`
		Meta d1.Meta `json:"meta"`
	}
	if err := json.Unmarshal(r.env.Result, &out); err != nil || len(out) != 1 || len(out[0].Results) != 1 {
		t.Fatalf("read answer %s: %v", r.env.Result, err)
	}
	return out[0].Results[0].V
}

// A session writing through every node and reading on a replica that is
// slowed down, then cut off and healed, never reads older than its own
// writes: the replica waits for the session's bookmark, or answers 503
// 7503 when it cannot reach it in time.
func TestSessionReadsItsWritesOnASlowOrCutOffReplica(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	cl := client{t, c}
	base := "/client/v4/accounts/" + accountID(t, c) + "/d1/database"
	db := createDB(t, cl, c.Member(0), base, "session")
	s := &session{cl: cl, q: base + "/" + db.UUID + "/query"}
	leader := c.WaitLeader(10 * time.Second)
	cl.must(leader, http.MethodPost, s.q, map[string]any{"sql": "CREATE TABLE IF NOT EXISTS c(id INTEGER PRIMARY KEY, v INTEGER)"}, nil)
	cl.must(leader, http.MethodPost, s.q, map[string]any{"sql": "INSERT OR REPLACE INTO c VALUES (1, 0)"}, nil)
	ri := (c.Index(leader) + 1) % 3
	replica := c.Member(ri)
	for _, m := range c.Members() {
		if m != replica {
			c.SetLatency(replica.Region, m.Region, 40*time.Millisecond)
		}
	}

	written, reads, behind := 0, 0, 0
	step := func(i int, cutOff bool) {
		w, err := s.send(c.Member(i%3), map[string]any{"sql": "UPDATE c SET v = ? WHERE id = 1", "params": []any{i}})
		if err != nil || w.status != http.StatusOK {
			return // not acknowledged: the session's newest write is still the previous one
		}
		written = i
		r, err := s.send(replica, map[string]any{"sql": "SELECT v FROM c WHERE id = 1"})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case r.status == http.StatusServiceUnavailable && r.env.Errors[0].Code == 7503:
			behind++
		case r.status == http.StatusOK:
			if cutOff && replica != c.Leader() {
				// The replica cannot have the write: an answer would be stale.
				t.Fatalf("replica cut off from the leader answered a read past its state")
			}
			if v := value(t, r); v < written {
				t.Fatalf("session read %d after writing %d (bookmark %s)", v, written, s.bookmark)
			}
			reads++
		default:
			t.Fatalf("session read: %d %+v", r.status, r.env.Errors)
		}
	}
	i := 1
	for ; i <= 7; i++ {
		step(i, false)
	}
	c.Isolate(ri)
	cutReads := reads
	for end := i + 2; i < end; i++ {
		if c.Member(i%3) == replica {
			continue // its writes cannot commit while it is cut off
		}
		step(i, true)
	}
	if reads != cutReads {
		t.Fatalf("the cut-off replica answered %d session reads", reads-cutReads)
	}
	c.Heal()
	c.WaitFor("the healed replica answers the session", 20*time.Second, func() bool {
		r, err := s.send(replica, map[string]any{"sql": "SELECT v FROM c WHERE id = 1"})
		return err == nil && r.status == http.StatusOK && value(t, r) >= written
	})
	for end := i + 5; i < end; i++ {
		step(i, false)
	}
	t.Logf("%d session reads answered, %d refused as behind (503 7503)", reads, behind)
	if reads < 9 {
		t.Fatalf("only %d session reads answered", reads)
	}

	// A session's first query (first-primary, no bookmark) is served by
	// the leader, through any node, with the newest value.
	r, err := cl.do(replica, http.MethodPost, s.q, map[string]any{"sql": "SELECT v FROM c WHERE id = 1"}, d1.HeaderSession, "first-primary")
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("first-primary read: %v %d %+v", err, r.status, r.env.Errors)
	}
	if v := value(t, r); v < written || r.header.Get("X-Edge-Served-By") != c.Leader().ID {
		t.Fatalf("first-primary read answered %d (wrote %d) from %s", v, written, r.header.Get("X-Edge-Served-By"))
	}
}
