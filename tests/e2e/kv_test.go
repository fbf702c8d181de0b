package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKVAcknowledgedWritesSurviveKill9 streams PUTs at a real edged from
// several clients, kills it with SIGKILL mid-stream, restarts it on the same
// data dir, and reads back every write that was acknowledged with a 200.
func TestKVAcknowledgedWritesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "kv-solo", "us-east", "")
	p.start(t, bin)
	var st status
	waitFor(t, "node ready", 20*time.Second, func() bool {
		var err error
		st, err = nodeStatus(bin, p.url())
		return err == nil && st.Raft.State == "leader" && st.AccountID != ""
	})
	base := p.url() + "/client/v4/accounts/" + st.AccountID + "/storage/kv/namespaces"
	resp, env := httpDo(t, "POST", base, token, []byte(`{"title":"durable"}`))
	if resp.StatusCode != 200 {
		t.Fatalf("create namespace: %d %v", resp.StatusCode, env)
	}
	ns := env["result"].(map[string]any)["id"].(string)

	var (
		mu    sync.Mutex
		acked = map[string]string{}
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000 && !stop.Load(); i++ {
				key, val := fmt.Sprintf("w%d-%06d", w, i), fmt.Sprintf("value-%d-%d", w, i)
				req, _ := http.NewRequest("PUT", base+"/"+ns+"/values/"+key, bytes.NewReader([]byte(val)))
				req.Header.Set("Authorization", "Bearer "+token)
				r, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
				if r.StatusCode == 200 {
					mu.Lock()
					acked[key] = val
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, "a few hundred acknowledged writes", 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 500
	})
	p.kill() // SIGKILL while the writers are mid-stream
	stop.Store(true)
	wg.Wait()

	p.start(t, bin)
	waitFor(t, "node ready again", 20*time.Second, func() bool {
		st, err := nodeStatus(bin, p.url())
		return err == nil && st.Raft.State == "leader"
	})
	missing := 0
	for key, val := range acked {
		req, _ := http.NewRequest("GET", base+"/"+ns+"/values/"+key, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		r, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || string(b) != val {
			missing++
			if missing < 5 {
				var e map[string]any
				_ = json.Unmarshal(b, &e)
				t.Errorf("acknowledged %s lost: %d %q", key, r.StatusCode, b)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost after kill -9", missing, len(acked))
	}
	t.Logf("measured: all %d acknowledged writes present after kill -9 and restart", len(acked))
}
