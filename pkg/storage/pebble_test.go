package storage

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// TestPebbleSyncedWritesSurviveReopen checks the basic contract: a synced
// write is there after Close and reopen.
func TestPebbleSyncedWritesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenPebble(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("k"), []byte("v"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenPebble(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, closer, err := db.Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if string(v) != "v" {
		t.Fatalf("got %q", v)
	}
}

func TestPebbleConfigValidate(t *testing.T) {
	if err := (PebbleConfig{}).Validate(); err == nil {
		t.Fatal("empty dir accepted")
	}
	if err := (PebbleConfig{Dir: "x", CacheBytes: -1}).Validate(); err == nil {
		t.Fatal("negative cache accepted")
	}
	if _, err := OpenPebbleWith(PebbleConfig{}); err == nil {
		t.Fatal("open with empty dir succeeded")
	}
}

// TestPebbleGroupCommit proves that concurrent synced writes share WAL
// fsyncs: 64 writers doing 40 synced batches each must cause far fewer
// fsyncs than batches. A serial run is the control: there every synced
// write costs its own fsync, which shows the counter counts.
func TestPebbleGroupCommit(t *testing.T) {
	db, err := OpenPebble(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	const serial = 50
	before := WALSyncs(db)
	for i := range serial {
		if err := db.Set(fmt.Appendf(nil, "s%d", i), []byte("v"), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	// pebble records an fsync's latency just after waking its waiters, so
	// the last one may show up a moment after Set returns.
	deadline := time.Now().Add(5 * time.Second)
	for WALSyncs(db)-before < serial && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := WALSyncs(db) - before; got < serial {
		t.Fatalf("serial: %d fsyncs for %d synced writes; the counter does not count", got, serial)
	}

	const writers, each = 64, 40
	before = WALSyncs(db)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := db.Set(fmt.Appendf(nil, "c%d-%d", w, i), []byte("v"), pebble.Sync); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	syncs := WALSyncs(db) - before
	t.Logf("%d synced writes from %d writers took %d WAL fsyncs (%.1f writes per fsync)",
		writers*each, writers, syncs, float64(writers*each)/float64(max(syncs, 1)))
	if syncs == 0 || syncs > writers*each/4 {
		t.Fatalf("%d fsyncs for %d concurrent synced writes: no group commit", syncs, writers*each)
	}
}
