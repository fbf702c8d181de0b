package kv

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

func openTestStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := OpenStore(StoreConfig{Dir: dir, Buckets: 16, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ver(ms int64, node string) Version { return Version{HLC: hlc.New(ms, 0), Node: node} }

func put(ns, key, val string, v Version) Entry {
	return Entry{Namespace: ns, Key: key, Value: []byte(val), Version: v}
}

func mustApply(t testing.TB, s *Store, es ...Entry) []bool {
	t.Helper()
	won, err := s.Apply(es)
	if err != nil {
		t.Fatal(err)
	}
	return won
}

// dump is every stored entry of ns, raw, with values.
func dump(t testing.TB, s *Store, ns string) []Entry {
	t.Helper()
	var out []Entry
	if err := s.ForEach(ns, true, func(e Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameEntries(a, b []Entry) bool {
	return slices.EqualFunc(a, b, func(x, y Entry) bool {
		return x.Namespace == y.Namespace && x.Key == y.Key && bytes.Equal(x.Value, y.Value) &&
			bytes.Equal(x.Metadata, y.Metadata) && x.Expiration == y.Expiration &&
			x.Version == y.Version && x.Tombstone == y.Tombstone
	})
}

func TestStoreRoundTripsEveryField(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	e := Entry{Namespace: "ns", Key: "k/ü\xff", Value: []byte("v\x00"), Metadata: []byte(`{"a":1}`),
		Expiration: 1 << 40, Version: ver(5, "node-a")}
	if won := mustApply(t, s, e); !won[0] {
		t.Fatal("first write lost")
	}
	got, ok, err := s.Get("ns", e.Key)
	if err != nil || !ok || !sameEntries([]Entry{got}, []Entry{e}) {
		t.Fatalf("got %+v %v %v", got, ok, err)
	}
	empty := Entry{Namespace: "ns", Key: "empty", Value: []byte{}, Metadata: []byte{}, Version: ver(5, "a")}
	mustApply(t, s, empty)
	if got, _, _ := s.Get("ns", "empty"); got.Metadata == nil || len(got.Value) != 0 {
		t.Fatalf("empty metadata must stay distinct from none: %+v", got)
	}
	if _, ok, _ := s.Get("other", e.Key); ok {
		t.Fatal("key visible in another namespace")
	}
}

// TestStoreConvergesInEveryDeliveryOrder applies the same versions in
// every order of a small set and in random orders of a larger one, on
// fresh stores, and requires identical dumps and digests.
func TestStoreConvergesInEveryDeliveryOrder(t *testing.T) {
	small := []Entry{
		put("ns", "a", "1", ver(1, "x")),
		put("ns", "a", "2", ver(2, "x")),
		put("ns", "a", "2y", ver(2, "y")),
		{Namespace: "ns", Key: "a", Version: ver(3, "x"), Tombstone: true},
		put("ns", "b", "1", ver(1, "y")),
	}
	var want []Entry
	var wantDigest []uint64
	check := func(order []Entry, oneBatch bool) {
		s := openTestStore(t, t.TempDir())
		if oneBatch {
			mustApply(t, s, order...)
		} else {
			for _, e := range order {
				mustApply(t, s, e)
			}
		}
		got := dump(t, s, "ns")
		d, _ := s.Digest("ns")
		if want == nil {
			want, wantDigest = got, d
			return
		}
		if !sameEntries(got, want) || !slices.Equal(d, wantDigest) {
			t.Fatalf("order %v: got %+v, want %+v", order, got, want)
		}
		_ = s.Close()
	}
	permute(small, 0, func(p []Entry) { check(p, false) })
	if len(want) != 2 || !want[0].Tombstone || want[0].Version != ver(3, "x") || string(want[1].Value) != "1" {
		t.Fatalf("wrong winner: %+v", want)
	}
	check(slices.Clone(small), true)

	var big []Entry
	for i := range 300 {
		big = append(big, put("ns", fmt.Sprintf("k%d", i%37), fmt.Sprint(i), ver(int64(i%11), fmt.Sprint("n", i%3))))
	}
	want, wantDigest = nil, nil
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 6 {
		rng.Shuffle(len(big), func(i, j int) { big[i], big[j] = big[j], big[i] })
		check(slices.Clone(big), round%2 == 0)
	}
}

func permute(es []Entry, k int, fn func([]Entry)) {
	if k == len(es) {
		fn(slices.Clone(es))
		return
	}
	for i := k; i < len(es); i++ {
		es[k], es[i] = es[i], es[k]
		permute(es, k+1, fn)
		es[k], es[i] = es[i], es[k]
	}
}

func TestStoreConcurrentApplyKeepsTheMaxVersion(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	const goroutines, perG, keys = 16, 60, 8
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				ms := int64(1 + (g*perG+i*7)%(goroutines*perG))
				k := fmt.Sprintf("k%d", (g+i)%keys)
				batch := []Entry{put("ns", k, fmt.Sprint(ms), ver(ms, fmt.Sprint(g)))}
				if i%5 == 0 { // multi-key batches too, in both key orders
					batch = append(batch, put("ns", fmt.Sprintf("k%d", (g+i+1)%keys), "b", ver(ms, fmt.Sprint(g))))
				}
				if _, err := s.Apply(batch); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Replay every write serially on a second store: the result must match.
	ref := openTestStore(t, t.TempDir())
	for g := range goroutines {
		for i := range perG {
			ms := int64(1 + (g*perG+i*7)%(goroutines*perG))
			batch := []Entry{put("ns", fmt.Sprintf("k%d", (g+i)%keys), fmt.Sprint(ms), ver(ms, fmt.Sprint(g)))}
			if i%5 == 0 {
				batch = append(batch, put("ns", fmt.Sprintf("k%d", (g+i+1)%keys), "b", ver(ms, fmt.Sprint(g))))
			}
			mustApply(t, ref, batch...)
		}
	}
	got, want := dump(t, s, "ns"), dump(t, ref, "ns")
	if len(got) != keys || !sameEntries(got, want) {
		t.Fatalf("concurrent result differs from serial:\n%+v\n%+v", got, want)
	}
	d1, _ := s.Digest("ns")
	d2, _ := ref.Digest("ns")
	if !slices.Equal(d1, d2) || s.Count("ns") != keys {
		t.Fatalf("digests or count differ: count %d", s.Count("ns"))
	}
}

func TestStoreApplyReportsWinners(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	won := mustApply(t, s, put("ns", "a", "2", ver(2, "x")), put("ns", "a", "1", ver(1, "x")), put("ns", "a", "3", ver(3, "x")))
	if !slices.Equal(won, []bool{true, false, true}) {
		t.Fatalf("won %v", won)
	}
	if won := mustApply(t, s, put("ns", "a", "3", ver(3, "x"))); won[0] {
		t.Fatal("an equal version must not win")
	}
	if e, _, _ := s.Get("ns", "a"); string(e.Value) != "3" {
		t.Fatalf("stored %q", e.Value)
	}
	if s.Count("ns") != 1 {
		t.Fatalf("count %d", s.Count("ns"))
	}
}
