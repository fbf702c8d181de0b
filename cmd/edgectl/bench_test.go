package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeRedis is a tiny RESP server with SET and GET, enough for the bench's
// client; it answers unknown commands with an error reply.
type fakeRedis struct {
	ln   net.Listener
	mu   sync.Mutex
	data map[string]string
	wg   sync.WaitGroup
}

func startFakeRedis(t *testing.T) *fakeRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRedis{ln: ln, data: map[string]string{}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

// serve answers one connection until it closes.
func (f *fakeRedis) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		args, err := readRESPArray(r)
		if err != nil {
			return
		}
		var reply string
		f.mu.Lock()
		switch strings.ToUpper(args[0]) {
		case "SET":
			f.data[args[1]] = args[2]
			reply = "+OK\r\n"
		case "GET":
			if v, ok := f.data[args[1]]; ok {
				reply = fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)
			} else {
				reply = "$-1\r\n"
			}
		default:
			reply = "-ERR unknown command\r\n"
		}
		f.mu.Unlock()
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

// readRESPArray reads one command: an array of bulk strings.
func readRESPArray(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("bad array %q: %v", line, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	args := make([]string, 0, n)
	for i := 0; i < n; i++ {
		hdr, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(hdr, "$") {
			return nil, fmt.Errorf("bad bulk %q: %v", hdr, err)
		}
		size, _ := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args = append(args, string(buf[:size]))
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return args, nil
}

func TestRESPClient(t *testing.T) {
	f := startFakeRedis(t)
	ctx := context.Background()
	conn, err := (&redisTarget{addr: f.ln.Addr().String()}).open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.close()
	if err := conn.put(ctx, "k", []byte("v\r\nwith crlf")); err != nil {
		t.Fatal(err)
	}
	if f.data["k"] != "v\r\nwith crlf" {
		t.Fatalf("stored %q", f.data["k"])
	}
	if err := conn.get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := conn.get(ctx, "missing"); err == nil {
		t.Fatal("GET of a missing key succeeded")
	}
	rc := conn.(*respConn)
	if _, err := rc.command(ctx, []byte("NOPE")); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("error reply: %v", err)
	}
	v, err := rc.command(ctx, []byte("GET"), []byte("k"))
	if err != nil || string(v) != "v\r\nwith crlf" {
		t.Fatalf("GET after an error reply = %q, %v (stream out of step)", v, err)
	}
}

func TestBenchKVEndToEnd(t *testing.T) {
	f, g := kvEnv(t)
	redis := startFakeRedis(t)
	args := append([]string{"--endpoint", f.URL + "," + f.URL}, g[2:]...)
	args = append(args, "bench", "kv", "--keys", "50", "--duration", "400ms", "--concurrency", "4",
		"--redis", redis.ln.Addr().String(), "--replication", "--rate", "200", "--sample", "2", "-o", "json")
	out := mustKV(t, "", args...)
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bench -o json: %v\n%s", err, out)
	}
	if len(rep.Results) != 4 || len(rep.Ratios) != 2 {
		t.Fatalf("results %d, ratios %d, want 4 and 2:\n%s", len(rep.Results), len(rep.Ratios), out)
	}
	for _, r := range rep.Results {
		if r.Ops == 0 || r.Errors != 0 || r.OpsPerSec <= 0 || r.P99Ms < r.P50Ms || r.MaxMs < r.P99Ms {
			t.Errorf("implausible phase %+v", r)
		}
	}
	if len(redis.data) != 50 {
		t.Errorf("redis holds %d keys after preload, want 50", len(redis.data))
	}
	r := rep.Replication
	if r == nil || r.Writes != 80 || r.WriteErrors != 0 || len(r.Endpoints) != 1 {
		t.Fatalf("replication = %+v", r)
	}
	if e := r.Endpoints[0]; e.Tracked != 40 || e.Seen != 40 || e.P99Ms > 1000 {
		t.Fatalf("replication endpoint = %+v", e)
	}
	if nss := f.Keys(""); nss != nil {
		t.Fatalf("fake has keys in an unknown namespace: %v", nss)
	}

	table := mustKV(t, "", append(g, "bench", "kv", "--keys", "20", "--duration", "200ms", "--concurrency", "2")...)
	if !strings.Contains(table, "edgeplane  GET") || !strings.Contains(table, "edgeplane  PUT") {
		t.Fatalf("table output:\n%s", table)
	}
	if _, errOut, code := runKV(t, "", append(g, "bench", "kv", "--replication")...); code == 0 || !strings.Contains(errOut, "two --endpoint") {
		t.Fatalf("--replication with one endpoint: exit %d, %q", code, errOut)
	}
	if left := mustKV(t, "", append(g, "kv", "namespace", "list", "-o", "json")...); strings.TrimSpace(left) != "[]" {
		t.Fatalf("bench left its scratch namespaces behind: %s", left)
	}
}
