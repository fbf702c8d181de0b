package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFaultsAgainstARealNode drives a real edged with the faults of issue
// 11 and checks, for each, the status code and that every write
// acknowledged before and in between is still readable: invalid UTF-8 in
// keys and metadata, a stalled body, a short body, 2,000 idle connections
// (over a cap of 1,000) and a burst past the per-token rate limit.
func TestFaultsAgainstARealNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	p := newProc(t, "faults", "us-east", "")
	p.extra = []string{"--body-idle-timeout", "1s", "--max-conns", "1000", "--rate-limit", "20", "--rate-burst", "40"}
	p.start(t, bin)
	var st status
	waitFor(t, "node ready", 20*time.Second, func() bool {
		var err error
		st, err = nodeStatus(bin, p.url())
		return err == nil && st.Raft.State == "leader" && st.AccountID != ""
	})
	base := p.url() + "/client/v4/accounts/" + st.AccountID + "/storage/kv/namespaces"
	resp, env := httpDo(t, "POST", base, token, []byte(`{"title":"faults"}`))
	if resp.StatusCode != 200 {
		t.Fatalf("create namespace: %d %v", resp.StatusCode, env)
	}
	ns := env["result"].(map[string]any)["id"].(string)
	values := base + "/" + ns + "/values/"
	acked := map[string]string{}
	put := func(key, val string) {
		t.Helper()
		waitRate(t)
		resp, env := httpDo(t, "PUT", values+key, token, []byte(val))
		if resp.StatusCode != 200 {
			t.Fatalf("put %s: %d %v", key, resp.StatusCode, env)
		}
		acked[key] = val
	}
	checkAcked := func(after string) {
		t.Helper()
		for k, v := range acked {
			waitRate(t)
			resp, err := http.DefaultClient.Do(authed("GET", values+k, nil))
			if err != nil {
				t.Fatalf("after %s: get %s: %v", after, k, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != v {
				t.Fatalf("after %s: acknowledged %s = %q, read %d %q", after, k, v, resp.StatusCode, b)
			}
		}
	}
	wantCode := func(what string, resp *http.Response, env map[string]any, status, code int) {
		t.Helper()
		if resp.StatusCode != status || !hasCode(env, code) {
			t.Fatalf("%s: %d %v, want %d with code %d", what, resp.StatusCode, env, status, code)
		}
		t.Logf("fault %-28s -> %d code %d", what, status, code)
	}
	put("before", "v0")

	// Invalid UTF-8 in keys and metadata.
	resp, env = httpDo(t, "PUT", values+"x%FF", token, []byte("v"))
	wantCode("invalid UTF-8 key", resp, env, 400, 10019)
	resp, env = httpDo(t, "PUT", base+"/"+ns+"/bulk", token, []byte("[{\"key\":\"y\xff\",\"value\":\"v\"}]"))
	wantCode("invalid UTF-8 bulk key", resp, env, 400, 10019)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("value", "v")
	_ = mw.WriteField("metadata", "\"\xff\"")
	_ = mw.Close()
	req := authed("PUT", values+"m", mp.Bytes())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, env = doEnv(t, req)
	wantCode("invalid UTF-8 metadata", resp, env, 400, 10022)
	put("after-utf8", "v1")
	checkAcked("invalid UTF-8")

	// A stalled body: 408 within the idle timeout, connection closed.
	line, err := rawPut(p.http, "/client/v4/accounts/"+st.AccountID+"/storage/kv/namespaces/"+ns+"/values/stalled", 10, "abc", false, 5*time.Second)
	if err != nil || !strings.HasPrefix(line, "408") {
		t.Fatalf("stalled body: %q %v", line, err)
	}
	t.Logf("fault %-28s -> %s", "stalled body", line)
	// A short body: 400, not 500.
	line, err = rawPut(p.http, "/client/v4/accounts/"+st.AccountID+"/storage/kv/namespaces/"+ns+"/values/short", 10, "abc", true, 5*time.Second)
	if err != nil || !strings.HasPrefix(line, "400") || !strings.Contains(line, "1009") {
		t.Fatalf("short body: %q %v", line, err)
	}
	t.Logf("fault %-28s -> %s", "short body", line)
	if strings.Contains(p.log.String(), "unexpected EOF") {
		t.Fatalf("short body logged: %s", p.log.String())
	}
	put("after-bodies", "v2")
	checkAcked("stalled and short bodies")

	// 2,000 idle connections against a cap of 1,000. /metrics is read over
	// a connection opened before, since new ones are refused at the cap.
	mc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	if goroutines(t, mc, p) <= 0 {
		t.Fatal("no go_goroutines in /metrics")
	}
	var conns []net.Conn
	for i := 0; i < 2000; i++ {
		c, err := net.DialTimeout("tcp", p.http, 2*time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	time.Sleep(500 * time.Millisecond)
	closed := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	g := goroutines(t, mc, p)
	t.Logf("fault %-28s -> %d dialled, %d closed by the node at once, %d goroutines", "2,000 idle connections", len(conns), closed, g)
	// The goroutine count is read over the one connection opened before
	// the cap filled; when the node closed it meanwhile, a new one is
	// refused at the cap and the count is unknown (-1): the cap still held.
	if closed < len(conns)-1000 || g > 1000+500 {
		t.Fatalf("connection cap: %d of %d closed, %d goroutines", closed, len(conns), g)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "the node serving again", 10*time.Second, func() bool {
		resp, err := http.DefaultClient.Do(authed("GET", p.url()+"/healthz", nil))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	put("after-conns", "v3")
	checkAcked("idle connections")

	// A burst past the rate limit: 429 with Retry-After, then served again.
	got429 := 0
	for i := 0; i < 100 && got429 == 0; i++ {
		resp, env := doEnv(t, authed("GET", values+"before", nil))
		if resp.StatusCode == 429 {
			got429++
			if resp.Header.Get("Retry-After") == "" || !hasCode(env, 971) {
				t.Fatalf("429 without Retry-After or code 971: %v %v", resp.Header, env)
			}
		}
	}
	if got429 == 0 {
		t.Fatal("no 429 in a burst of 100 at 20/s")
	}
	t.Logf("fault %-28s -> 429 code 971 with Retry-After", "burst past the rate limit")
	time.Sleep(2 * time.Second)
	put("after-burst", "v4")
	checkAcked("rate limit")
}

// waitRate paces the test's own requests under the node's 20/s limit.
func waitRate(t *testing.T) { time.Sleep(60 * time.Millisecond) }

func authed(method, url string, body []byte) *http.Request {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func doEnv(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = jsonUnmarshal(b, &env)
	return resp, env
}

func hasCode(env map[string]any, code int) bool {
	errs, _ := env["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["code"] == float64(code) {
			return true
		}
	}
	return false
}

// rawPut sends a PUT announcing length bytes and sends body; short closes
// the write side after it (a short body), otherwise the connection stays
// silent (a stalled body). It returns the status line and body.
func rawPut(addr, path string, length int, body string, short bool, within time.Duration) (string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", path, addr, token, length, body)
	if short {
		_ = c.(*net.TCPConn).CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	return strconv.Itoa(resp.StatusCode) + " " + strings.TrimSpace(string(b)), nil
}

// goroutines reads go_goroutines from the node's /metrics.
func goroutines(t *testing.T, c *http.Client, p *proc) int {
	t.Helper()
	resp, err := c.Get(p.url() + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return -1
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
