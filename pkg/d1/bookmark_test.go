package d1

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
)

// TestReadBookmarkIsNeverOlderThanWhatItShows: while one client writes,
// every read's bookmark is at least the index of the newest write whose
// effect the read shows. A bookmark older than the answer would let a
// session continue on a replica that has not reached what it already saw.
func TestReadBookmarkIsNeverOlderThanWhatItShows(t *testing.T) {
	te := newTestEnv(t, Options{})
	id := te.create("bm")
	te.sql(id, "CREATE TABLE c(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")

	const writes = 400
	written := make([]uint64, writes+1) // the index of the write of n
	type seen struct {
		n  int
		at uint64
	}
	var (
		mu    sync.Mutex
		reads []seen
		done  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				w := te.do(http.MethodPost, dbsPath+"/"+id+"/query", `{"sql":"SELECT coalesce(max(n), 0) AS m FROM c"}`)
				var env struct {
					Result []queryResult `json:"result"`
				}
				if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &env) != nil || len(env.Result) != 1 {
					t.Errorf("read: %d %s", w.Code, w.Body)
					return
				}
				at, err := ParseBookmark(w.Header().Get(HeaderBookmark))
				if err != nil {
					t.Errorf("read bookmark: %v", err)
					return
				}
				mu.Lock()
				reads = append(reads, seen{n: int(env.Result[0].Results[0]["m"].(float64)), at: at})
				mu.Unlock()
			}
		}()
	}
	for n := 1; n <= writes; n++ {
		res := te.sql(id, "INSERT INTO c(n) VALUES (?)", n)
		at, err := ParseBookmark(res[0].Meta.Bookmark)
		if err != nil {
			t.Fatal(err)
		}
		written[n] = at
	}
	close(done)
	wg.Wait()
	if len(reads) < writes/10 {
		t.Fatalf("only %d reads beside %d writes", len(reads), writes)
	}
	for _, r := range reads {
		if r.n > 0 && r.at < written[r.n] {
			t.Fatalf("a read showed write %d (index %d) with bookmark %d", r.n, written[r.n], r.at)
		}
	}
	t.Logf("%d reads beside %d writes", len(reads), writes)
}
