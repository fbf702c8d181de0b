package kv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

// envDurabilityChild, when set to a directory, makes TestStoreDurabilityChild
// the writer half of TestStoreSurvivesKill9.
const envDurabilityChild = "EDGE_KV_STORE_DURABILITY_DIR"

// TestStoreDurabilityChild writes entries forever (bounded) from several
// goroutines and prints "acked N" after each Apply returns. It only runs
// as the child of TestStoreSurvivesKill9.
func TestStoreDurabilityChild(t *testing.T) {
	dir := os.Getenv(envDurabilityChild)
	if dir == "" {
		t.Skip("child half of TestStoreSurvivesKill9")
	}
	s, err := OpenStore(StoreConfig{Dir: dir})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var next atomic.Int64
	out := make(chan int64, 64)
	for range 8 {
		go func() {
			for {
				n := next.Add(1)
				if n > 1_000_000 {
					return
				}
				e := Entry{Namespace: "ns", Key: fmt.Sprintf("k%07d", n), Value: []byte(strconv.FormatInt(n, 10)),
					Version: Version{HLC: hlc.New(n, 0), Node: "child"}}
				if _, err := s.Apply([]Entry{e}); err != nil {
					fmt.Println("apply:", err)
					os.Exit(2)
				}
				out <- n
			}
		}()
	}
	w := bufio.NewWriter(os.Stdout)
	for n := range out {
		fmt.Fprintf(w, "acked %d\n", n)
		if len(out) == 0 {
			_ = w.Flush()
		}
	}
}

// TestStoreSurvivesKill9 runs the child writer, SIGKILLs it once it has
// acknowledged a few thousand writes, reopens the store and checks that
// every acknowledged write is there.
func TestStoreSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreDurabilityChild$", "-test.v")
	cmd.Env = append(os.Environ(), envDurabilityChild+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	acked := map[int64]bool{}
	deadline := time.Now().Add(60 * time.Second)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "acked "); ok {
			n, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				t.Fatalf("bad line %q", line)
			}
			acked[n] = true
		} else if strings.HasPrefix(line, "open:") || strings.HasPrefix(line, "apply:") {
			t.Fatalf("child: %s", line)
		}
		if len(acked) >= 3000 || time.Now().After(deadline) {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 100 {
		t.Fatalf("child acknowledged only %d writes", len(acked))
	}
	s, err := OpenStore(StoreConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	missing := 0
	for n := range acked {
		e, ok, err := s.Get("ns", fmt.Sprintf("k%07d", n))
		if err != nil {
			t.Fatal(err)
		}
		if !ok || string(e.Value) != strconv.FormatInt(n, 10) {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost after kill -9", missing, len(acked))
	}
	t.Logf("all %d acknowledged writes survived kill -9 (store holds %d)", len(acked), s.Count("ns"))
}
