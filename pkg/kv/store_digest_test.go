package kv

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

func TestBucketOfIsStableAndSpread(t *testing.T) {
	// Pinned values: a change here breaks anti-entropy between versions.
	if got := []int{BucketOf("a", 256), BucketOf("hello/world", 256), BucketOf("", 7)}; !slices.Equal(got, bucketOfGolden) {
		t.Fatalf("BucketOf changed: %v, pinned %v", got, bucketOfGolden)
	}
	counts := make([]int, 16)
	for i := range 16000 {
		counts[BucketOf(fmt.Sprintf("key-%d", i), 16)]++
	}
	for b, c := range counts {
		if c < 800 || c > 1200 {
			t.Fatalf("bucket %d holds %d of 16000 keys", b, c)
		}
	}
}

var bucketOfGolden = []int{248, 141, 5}

func TestDigestsEqualForEqualContentAndDifferOnOneEntry(t *testing.T) {
	a, b := openTestStore(t, t.TempDir()), openTestStore(t, t.TempDir())
	for i := range 200 {
		e := put("ns", fmt.Sprint(i), "v", ver(int64(i), "n"))
		mustApply(t, a, e)
		mustApply(t, b, e)
	}
	da, _ := a.Digest("ns")
	db, _ := b.Digest("ns")
	if len(da) != 16 || !slices.Equal(da, db) {
		t.Fatal("equal content, different digests")
	}
	// One newer version of one key on b: exactly its bucket differs.
	mustApply(t, b, put("ns", "7", "v", ver(1000, "n")))
	db, _ = b.Digest("ns")
	var diff []int
	for i := range da {
		if da[i] != db[i] {
			diff = append(diff, i)
		}
	}
	if !slices.Equal(diff, []int{BucketOf("7", 16)}) {
		t.Fatalf("differing buckets %v, want [%d]", diff, BucketOf("7", 16))
	}
	va := bucketVersions(t, a, "ns", diff[0])
	vb := bucketVersions(t, b, "ns", diff[0])
	if va["7"] != ver(7, "n") || vb["7"] != ver(1000, "n") || len(va) != len(vb) {
		t.Fatalf("bucket versions %v / %v", va, vb)
	}
	for k := range va {
		if BucketOf(k, 16) != diff[0] {
			t.Fatalf("key %q is not in bucket %d", k, diff[0])
		}
	}
	if _, err := a.BucketsVersions("ns", []int{16}); err == nil {
		t.Fatal("bucket out of range accepted")
	}
	// Catching a up makes the digests equal again.
	mustApply(t, a, put("ns", "7", "v", ver(1000, "n")))
	da, _ = a.Digest("ns")
	if !slices.Equal(da, db) {
		t.Fatal("digests differ after repair")
	}
}

func TestDigestRebuiltAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	for i := range 300 {
		mustApply(t, s, put(fmt.Sprint("ns", i%3), fmt.Sprint(i%100), fmt.Sprint(i), ver(int64(i), "n")))
	}
	mustApply(t, s, Entry{Namespace: "ns0", Key: "gone", Version: ver(5, "n"), Tombstone: true})
	want := map[string][]uint64{}
	counts := map[string]int{}
	for _, ns := range []string{"ns0", "ns1", "ns2"} {
		want[ns], _ = s.Digest(ns)
		counts[ns] = s.Count(ns)
	}
	_ = s.Close()
	s = openTestStore(t, dir)
	for ns, d := range want {
		got, _ := s.Digest(ns)
		if !slices.Equal(got, d) || s.Count(ns) != counts[ns] {
			t.Fatalf("%s: digest or count (%d vs %d) differ after reopen", ns, s.Count(ns), counts[ns])
		}
	}
	if ns, _ := s.Namespaces(); !slices.Equal(ns, []string{"ns0", "ns1", "ns2"}) {
		t.Fatalf("namespaces %q", ns)
	}
}

func TestCollect(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	now := time.UnixMilli(10_000_000)
	horizon := time.Hour
	old := Version{HLC: hlc.New(now.Add(-2*horizon).UnixMilli(), 0), Node: "n"}
	recent := Version{HLC: hlc.New(now.Add(-time.Minute).UnixMilli(), 0), Node: "n"}
	mustApply(t, s,
		Entry{Namespace: "ns", Key: "old-tomb", Version: old, Tombstone: true},
		Entry{Namespace: "ns", Key: "new-tomb", Version: recent, Tombstone: true},
		Entry{Namespace: "ns", Key: "old-expired", Value: []byte("x"), Expiration: now.Unix(), Version: old},
		Entry{Namespace: "ns", Key: "new-expired", Value: []byte("x"), Metadata: []byte(`{}`), Expiration: now.Unix() - 1, Version: recent},
		Entry{Namespace: "ns", Key: "live", Value: []byte("x"), Expiration: now.Unix() + 1, Version: old},
	)
	before, _ := s.Digest("ns")
	n, err := s.Collect(now, horizon)
	if err != nil || n != 3 {
		t.Fatalf("collected %d, %v; want 3", n, err)
	}
	var keys []string
	for _, e := range dump(t, s, "ns") {
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []string{"live", "new-expired", "new-tomb"}) {
		t.Fatalf("left %q", keys)
	}
	e, _, _ := s.Get("ns", "new-expired")
	if !e.Tombstone || len(e.Value) != 0 || e.Metadata != nil || e.Version != recent {
		t.Fatalf("recent expired entry should be a tombstone of its version: %+v", e)
	}
	// An older write arriving later must not resurrect it.
	if won := mustApply(t, s, put("ns", "new-expired", "zombie", ver(1, "n"))); won[0] {
		t.Fatal("older write resurrected an expired key")
	}
	// The digest lost exactly the two deleted entries.
	ref := openTestStore(t, t.TempDir())
	mustApply(t, ref,
		Entry{Namespace: "ns", Key: "new-tomb", Version: recent, Tombstone: true},
		Entry{Namespace: "ns", Key: "new-expired", Version: recent, Tombstone: true},
		Entry{Namespace: "ns", Key: "live", Version: old},
	)
	after, _ := s.Digest("ns")
	want, _ := ref.Digest("ns")
	if !slices.Equal(after, want) || slices.Equal(after, before) || s.Count("ns") != 3 {
		t.Fatalf("digest not updated by Collect (count %d)", s.Count("ns"))
	}
	// Nothing left to do: a second run collects nothing.
	if n, err := s.Collect(now, horizon); err != nil || n != 0 {
		t.Fatalf("second collect: %d %v", n, err)
	}
	// Once the horizon passes the converted tombstone goes too.
	if n, _ := s.Collect(now.Add(2*horizon), horizon); n != 3 {
		t.Fatalf("late collect: %d, want 3 (two tombstones and the now-expired live)", n)
	}
}

func TestBucketsVersionsMatchesPerBucket(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	for i := range 100 {
		mustApply(t, s, put("ns", fmt.Sprint(i), "v", ver(int64(i), "n")))
	}
	all, err := s.BucketsVersions("ns", []int{0, 3, 15})
	if err != nil || len(all) != 3 {
		t.Fatalf("%v %v", all, err)
	}
	for b, m := range all {
		one := bucketVersions(t, s, "ns", b)
		if len(one) != len(m) {
			t.Fatalf("bucket %d: %d vs %d keys", b, len(one), len(m))
		}
		for k, v := range one {
			if m[k] != v {
				t.Fatalf("bucket %d key %q", b, k)
			}
		}
	}
}

// TestDigestStaysExactUnderConcurrentWritesCollectAndDrop runs Apply,
// Collect and DropNamespace at once, then checks that the in-memory digests
// and counts equal the ones rebuilt from disk by a reopen.
func TestDigestStaysExactUnderConcurrentWritesCollectAndDrop(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	now := time.UnixMilli(50_000_000)
	done := make(chan struct{})
	errs := make(chan error, 8)
	for g := range 4 {
		go func() {
			defer func() { errs <- nil }()
			for i := range 300 {
				ns := fmt.Sprint("ns", i%3)
				e := put(ns, fmt.Sprint(i%40), "v", Version{HLC: hlc.New(now.UnixMilli()-int64(i%7)*1000, uint16(g)), Node: "n"})
				switch i % 4 {
				case 1:
					e.Tombstone, e.Value = true, nil
				case 2:
					e.Expiration = now.Unix() - 1
				}
				if _, err := s.Apply([]Entry{e}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() {
		defer close(done)
		for i := range 20 {
			if _, err := s.Collect(now, time.Duration(i%3)*time.Second); err != nil {
				errs <- err
				return
			}
			if i%7 == 3 {
				if err := s.DropNamespace("ns1"); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	<-done
	want := map[string][]uint64{}
	counts := map[string]int{}
	for _, ns := range []string{"ns0", "ns1", "ns2"} {
		want[ns], _ = s.Digest(ns)
		counts[ns] = s.Count(ns)
		if got := len(dump(t, s, ns)); got != counts[ns] {
			t.Fatalf("%s: count %d, stored %d", ns, counts[ns], got)
		}
	}
	_ = s.Close()
	s = openTestStore(t, dir)
	for ns, d := range want {
		if got, _ := s.Digest(ns); !slices.Equal(got, d) || s.Count(ns) != counts[ns] {
			t.Fatalf("%s: in-memory digest drifted from the stored entries", ns)
		}
	}
}

// bucketVersions is one bucket's key versions, from a scan for it alone.
func bucketVersions(t *testing.T, s *Store, ns string, b int) map[string]Version {
	t.Helper()
	all, err := s.BucketsVersions(ns, []int{b})
	if err != nil {
		t.Fatal(err)
	}
	return all[b]
}
