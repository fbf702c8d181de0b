package d1

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
)

// A snapshot restored on another node gives it the same tables and
// applied indexes; databases the snapshot lacks are removed there.
func TestSnapshotRestore(t *testing.T) {
	a, b := newTestEnv(t, Options{}), newTestEnv(t, Options{})
	var ids []string
	for i := range 3 {
		id := a.create(fmt.Sprint("db", i))
		res, _ := a.env.Cat.Resource("d1_database", apitest.Account, id)
		b.env.Cat.Catalog.Apply(uint64(100+i), catalogCreate(res))
		a.sql(id, "CREATE TABLE t(v, r DEFAULT (random()))")
		a.sql(id, "INSERT INTO t(v) VALUES (?), (?)", i, i*10)
		ids = append(ids, id)
	}
	// b holds a database of its own that the snapshot does not know.
	own := b.create("stale")
	b.sql(own, "CREATE TABLE x(y)")

	var snap bytes.Buffer
	if err := a.m.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	if err := b.m.Restore(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		ia, sa, err := a.m.Checksums(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		ib, sb, err := b.m.Checksums(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ia == 0 || ia != ib || fmt.Sprint(sa) != fmt.Sprint(sb) {
			t.Fatalf("%s: %d %v / %d %v", id, ia, sa, ib, sb)
		}
	}
	files, _ := b.m.fileIDs()
	if len(files) != len(ids) {
		t.Fatalf("files after restore: %v", files)
	}
	// The restored databases take writes.
	b.index = 100
	b.sql(ids[0], "INSERT INTO t(v) VALUES (3)")
	// A corrupt or newer section is refused.
	if err := b.m.Restore(bytes.NewReader([]byte{9})); err == nil {
		t.Fatal("restored an unknown version")
	}
}
