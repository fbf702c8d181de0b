package objstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

const testObj = "ns1/" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func openTestStore(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// commitLocal applies ops to obj as a lone owner would: the next sequence
// under ballot b.
func commitLocal(t *testing.T, s *Store, obj string, b Ballot, ops ...Op) Meta {
	t.Helper()
	m, err := s.Meta(obj)
	if err != nil {
		t.Fatal(err)
	}
	res, n, err := s.Accept(obj, AcceptRequest{Ballot: b, BaseBallot: m.Accepted, BaseSeq: m.Seq, Seq: m.Seq + 1,
		Ops: ops, Replicas: []string{"a"}, EnforceCap: true})
	if err != nil {
		t.Fatal(err)
	}
	if res != Accepted {
		t.Fatalf("accept: result %d, meta %+v", res, n)
	}
	return n
}

func put(k, v string) Op { return Op{Kind: OpPut, Key: k, Value: []byte(v)} }
func del(k string) Op    { return Op{Kind: OpDelete, Key: k} }

func keysOf(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
	}
	return out
}

func TestListSemantics(t *testing.T) {
	s := openTestStore(t, Options{})
	b := Ballot{Counter: 1, Node: "a"}
	// Keys in UTF-8 byte order: "" < "a" < "ab" < "abc" < "b" < "ba" < "c" < "é" (0xc3 0xa9) < "日".
	var ops []Op
	for _, k := range []string{"b", "a", "abc", "ab", "c", "ba", "é", "日", ""} {
		ops = append(ops, put(k, "v"+k))
	}
	commitLocal(t, s, testObj, b, ops...)
	// Another object's keys never show.
	other := "ns1/" + strings.Repeat("f", 64)
	commitLocal(t, s, other, b, put("a", "other"), put("zz", "other"))
	all := []string{"", "a", "ab", "abc", "b", "ba", "c", "é", "日"}
	cases := []struct {
		name string
		opts ListOptions
		want []string
	}{
		{"all", ListOptions{}, all},
		{"start inclusive", ListOptions{Start: "b"}, []string{"b", "ba", "c", "é", "日"}},
		{"startAfter exclusive", ListOptions{StartAfter: "b"}, []string{"ba", "c", "é", "日"}},
		{"end exclusive", ListOptions{End: "b"}, []string{"", "a", "ab", "abc"}},
		{"start end", ListOptions{Start: "ab", End: "c"}, []string{"ab", "abc", "b", "ba"}},
		{"prefix", ListOptions{Prefix: "a"}, []string{"a", "ab", "abc"}},
		{"prefix and start", ListOptions{Prefix: "a", Start: "ab"}, []string{"ab", "abc"}},
		{"prefix and end", ListOptions{Prefix: "a", End: "abc"}, []string{"a", "ab"}},
		{"prefix none", ListOptions{Prefix: "x"}, nil},
		{"reverse", ListOptions{Reverse: true}, []string{"日", "é", "c", "ba", "b", "abc", "ab", "a", ""}},
		{"reverse keeps start end", ListOptions{Start: "ab", End: "c", Reverse: true}, []string{"ba", "b", "abc", "ab"}},
		{"reverse limit", ListOptions{Reverse: true, Limit: 2}, []string{"日", "é"}},
		{"limit", ListOptions{Limit: 3}, []string{"", "a", "ab"}},
		{"limit over count", ListOptions{Limit: 100}, all},
		{"empty range", ListOptions{Start: "c", End: "b"}, nil},
		{"start equals end", ListOptions{Start: "b", End: "b"}, nil},
		{"utf8 order", ListOptions{Start: "c"}, []string{"c", "é", "日"}},
		{"startAfter last", ListOptions{StartAfter: "日"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(testObj, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(keysOf(got), tc.want) {
				t.Fatalf("keys %q, want %q", keysOf(got), tc.want)
			}
			for _, e := range got {
				if string(e.Value) != "v"+e.Key {
					t.Fatalf("key %q value %q", e.Key, e.Value)
				}
			}
		})
	}
	for _, bad := range []ListOptions{{Start: "a", StartAfter: "b"}, {Limit: -1}, {Prefix: "\xff"}, {End: strings.Repeat("k", MaxKeyBytes+1)}} {
		if _, err := s.List(testObj, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("list %+v: err %v, want ErrInvalid", bad, err)
		}
	}
}

func TestOpLimitsAtTheEdge(t *testing.T) {
	maxKey := strings.Repeat("k", MaxKeyBytes)
	cases := []struct {
		name string
		ops  []Op
		ok   bool
	}{
		{"key at limit", []Op{put(maxKey, "v")}, true},
		{"key one past", []Op{put(maxKey+"k", "v")}, false},
		{"entry at limit", []Op{{Kind: OpPut, Key: "k", Value: make([]byte, MaxEntryBytes-1)}}, true},
		{"entry one past", []Op{{Kind: OpPut, Key: "k", Value: make([]byte, MaxEntryBytes)}}, false},
		{"invalid utf8 key", []Op{put("a\xffb", "v")}, false},
		{"ops at limit", slices.Repeat([]Op{del("k")}, MaxOpsPerCommit), true},
		{"ops one past", slices.Repeat([]Op{del("k")}, MaxOpsPerCommit+1), false},
		{"no ops", nil, false},
		{"unknown kind", []Op{{Kind: 9, Key: "k"}}, false},
		{"alarm", []Op{AlarmOp(1700000000000)}, true},
		{"alarm short", []Op{{Kind: OpSetAlarm, Value: []byte{1}}}, false},
		{"alarm negative", []Op{AlarmOp(-5)}, false},
		{"deleteAll with key", []Op{{Kind: OpDeleteAll, Key: "k"}}, false},
		{"delete with value", []Op{{Kind: OpDelete, Key: "k", Value: []byte("x")}}, false},
		{"commit bytes at limit", slices.Repeat([]Op{{Kind: OpPut, Key: "k", Value: make([]byte, MaxCommitBytes/16-1)}}, 16), true},
		{"commit bytes one past", append(slices.Repeat([]Op{{Kind: OpPut, Key: "k", Value: make([]byte, MaxCommitBytes/16-1)}}, 16), put("x", "")), false},
	}
	for _, tc := range cases {
		err := ValidateOps(tc.ops)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestStorageCapAtTheEdge(t *testing.T) {
	s := openTestStore(t, Options{StorageCap: 100})
	b := Ballot{Counter: 1, Node: "a"}
	// 1 + 89 = 90 bytes, then 10 more: exactly the cap.
	commitLocal(t, s, testObj, b, put("a", strings.Repeat("x", 89)))
	commitLocal(t, s, testObj, b, put("b", strings.Repeat("x", 9)))
	m, _ := s.Meta(testObj)
	if m.Size != 100 {
		t.Fatalf("size %d, want 100", m.Size)
	}
	_, _, err := s.Accept(testObj, AcceptRequest{Ballot: b, BaseBallot: b, BaseSeq: m.Seq, Seq: m.Seq + 1,
		Ops: []Op{put("c", "")}, EnforceCap: true})
	if !errors.Is(err, ErrStorageFull) {
		t.Fatalf("one byte past the cap: err %v, want ErrStorageFull", err)
	}
	if got, _ := s.Get(testObj, []string{"c"}); len(got) != 0 {
		t.Fatalf("refused write was stored: %q", got)
	}
	// Overwriting with a smaller value and deleting shrink the object.
	commitLocal(t, s, testObj, b, put("a", "y"), del("b"))
	if m, _ := s.Meta(testObj); m.Size != 2 {
		t.Fatalf("size after shrink %d, want 2", m.Size)
	}
	commitLocal(t, s, testObj, b, Op{Kind: OpDeleteAll}, put("z", "12"))
	if m, _ := s.Meta(testObj); m.Size != 3 {
		t.Fatalf("size after deleteAll+put %d, want 3", m.Size)
	}
}

func TestCommitIsAtomic(t *testing.T) {
	s := openTestStore(t, Options{})
	b := Ballot{Counter: 1, Node: "a"}
	commitLocal(t, s, testObj, b, put("a", "1"), put("b", "2"), AlarmOp(42))
	// deleteAll then put in one commit: only the put survives, the alarm stays.
	commitLocal(t, s, testObj, b, Op{Kind: OpDeleteAll}, put("c", "3"), put("c", "4"), del("a"))
	got, err := s.List(testObj, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "c" || string(got[0].Value) != "4" {
		t.Fatalf("after deleteAll+put: %v", got)
	}
	m, _ := s.Meta(testObj)
	if m.Alarm != 42 || m.Seq != 2 {
		t.Fatalf("meta %+v", m)
	}
	// A commit with a bad op in the middle changes nothing.
	_, _, err = s.Accept(testObj, AcceptRequest{Ballot: b, BaseBallot: b, BaseSeq: 2, Seq: 3,
		Ops: []Op{put("d", "5"), {Kind: 77}}})
	if err == nil {
		t.Fatal("bad op accepted")
	}
	if got, _ := s.Get(testObj, []string{"d"}); len(got) != 0 {
		t.Fatalf("half a commit stored: %q", got)
	}
	if m2, _ := s.Meta(testObj); m2.Seq != 2 {
		t.Fatalf("seq moved to %d", m2.Seq)
	}
	// ObjectsWithAlarms lists it.
	if al := s.ObjectsWithAlarms(); len(al) != 1 || al[0] != (ObjectAlarm{Obj: testObj, At: 42}) {
		t.Fatalf("alarms %v", al)
	}
	commitLocal(t, s, testObj, b, AlarmOp(0))
	if al := s.ObjectsWithAlarms(); len(al) != 0 {
		t.Fatalf("alarms after clear %v", al)
	}
}

func TestPromiseAndAcceptFencing(t *testing.T) {
	s := openTestStore(t, Options{})
	b1, b2 := Ballot{Counter: 1, Node: "b"}, Ballot{Counter: 2, Node: "a"}
	if ok, _, err := s.Promise(testObj, b2); !ok || err != nil {
		t.Fatalf("promise b2: %v %v", ok, err)
	}
	if ok, m, _ := s.Promise(testObj, b1); ok || m.Promised != b2 {
		t.Fatalf("promise lower ballot: ok %v meta %+v", ok, m)
	}
	res, _, err := s.Accept(testObj, AcceptRequest{Ballot: b1, Seq: 1, Ops: []Op{put("k", "v")}})
	if err != nil || res != Superseded {
		t.Fatalf("accept under a lower ballot: %v %v", res, err)
	}
	// Wrong base: mismatch, nothing written.
	res, _, err = s.Accept(testObj, AcceptRequest{Ballot: b2, BaseBallot: b1, BaseSeq: 4, Seq: 5, Ops: []Op{put("k", "v")}})
	if err != nil || res != Mismatch {
		t.Fatalf("accept on a wrong base: %v %v", res, err)
	}
	if got, _ := s.Get(testObj, []string{"k"}); len(got) != 0 {
		t.Fatal("mismatched accept wrote")
	}
}

// TestCrashKeepsAcknowledgedWrites simulates kill -9: the file system is
// cut back to what was synced, and the store reopened from it.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := Open("/db", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Promise(testObj, Ballot{Counter: 3, Node: "a"}); err != nil {
		t.Fatal(err)
	}
	b := Ballot{Counter: 3, Node: "a"}
	for i := range 50 {
		commitLocal(t, s, testObj, b, put(fmt.Sprintf("k%03d", i), fmt.Sprint(i)))
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	_ = s.Close()
	s2, err := Open("/db", Options{FS: crashed})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.List(testObj, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 {
		t.Fatalf("%d entries after the crash, want 50", len(got))
	}
	m, _ := s2.Meta(testObj)
	if m.Seq != 50 || m.Accepted != b || m.Promised != b {
		t.Fatalf("meta after the crash %+v", m)
	}
}

func TestClosedStoreRefusesCalls(t *testing.T) {
	s := openTestStore(t, Options{})
	commitLocal(t, s, testObj, Ballot{Counter: 1, Node: "a"}, put("k", "v"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(testObj, []string{"k"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
	if _, _, err := s.Promise(testObj, Ballot{Counter: 2, Node: "a"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("promise after close: %v", err)
	}
	if _, err := s.List(testObj, ListOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("list after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestInstallNeverGoesBackUnderOneBallot(t *testing.T) {
	s := openTestStore(t, Options{})
	b := Ballot{Counter: 1, Node: "a"}
	commitLocal(t, s, testObj, b, put("k1", "v"))
	commitLocal(t, s, testObj, b, put("k2", "v"))
	res, m, err := s.Install(testObj, b, State{Meta: Meta{Seq: 1, Replicas: []string{"a"}}, Entries: []Entry{{Key: "k1", Value: []byte("v")}}})
	if err != nil || res != Accepted || m.Seq != 2 {
		t.Fatalf("older install under the same ballot: %v %+v %v", res, m, err)
	}
	if got, _ := s.Get(testObj, []string{"k2"}); len(got) != 1 {
		t.Fatal("an older state under the same ballot replaced a newer one")
	}
	// A higher ballot's state replaces it whatever its seq.
	b2 := Ballot{Counter: 2, Node: "b"}
	res, m, err = s.Install(testObj, b2, State{Meta: Meta{Seq: 1, Replicas: []string{"b"}}, Entries: []Entry{{Key: "z", Value: []byte("1")}}})
	if err != nil || res != Accepted || m.Seq != 1 || m.Accepted != b2 {
		t.Fatalf("install under a higher ballot: %v %+v %v", res, m, err)
	}
	if es, _ := s.List(testObj, ListOptions{}); len(es) != 1 || es[0].Key != "z" {
		t.Fatalf("after install: %v", es)
	}
}
