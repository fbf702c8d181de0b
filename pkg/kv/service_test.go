package kv

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// testNow is the fixed wall time of service tests.
var testNow = time.Unix(1_700_000_000, 0)

type svcEnv struct {
	svc *Service
	st  *fakeStorage
	pub *recordingPublisher
	reg *prometheus.Registry
	clk *hlc.Clock
}

func newSvcEnv(t *testing.T) *svcEnv {
	t.Helper()
	e := &svcEnv{st: newFakeStorage(), pub: &recordingPublisher{}, reg: prometheus.NewRegistry()}
	e.clk = hlc.NewClock(func() time.Time { return testNow })
	svc, err := NewService(ServiceConfig{Storage: e.st, Clock: e.clk, NodeID: "n1", Publisher: e.pub,
		Now: func() time.Time { return testNow }, Registerer: e.reg})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func TestServiceConfigValidate(t *testing.T) {
	good := ServiceConfig{Storage: newFakeStorage(), Clock: hlc.NewClock(nil), NodeID: "n", Registerer: prometheus.NewRegistry()}
	if _, err := NewService(good); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*ServiceConfig){
		"storage": func(c *ServiceConfig) { c.Storage = nil },
		"clock":   func(c *ServiceConfig) { c.Clock = nil },
		"node":    func(c *ServiceConfig) { c.NodeID = "" },
		"reg":     func(c *ServiceConfig) { c.Registerer = nil },
	} {
		c := good
		c.Registerer = prometheus.NewRegistry()
		edit(&c)
		if _, err := NewService(c); err == nil {
			t.Errorf("missing %s accepted", name)
		}
	}
}

func TestPutGetDelete(t *testing.T) {
	e := newSvcEnv(t)
	ctx := context.Background()
	got, err := e.svc.Put(ctx, "ns", "a/b", []byte("v1"), []byte(`{"m":1}`), testNow.Unix()+60)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version.Node != "n1" || got.Version.HLC == 0 {
		t.Fatalf("version = %+v", got.Version)
	}
	r, err := e.svc.Get(ctx, "ns", "a/b")
	if err != nil || string(r.Value) != "v1" || string(r.Metadata) != `{"m":1}` || r.Expiration != testNow.Unix()+60 {
		t.Fatalf("get = %+v, %v", r, err)
	}
	if _, err := e.svc.Get(ctx, "other", "a/b"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("other namespace: %v", err)
	}
	if err := e.svc.Delete(ctx, "ns", "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, "ns", "a/b"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := e.svc.Delete(ctx, "ns", "never"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	pub := e.pub.published()
	if len(pub) != 3 || !pub[1].Tombstone || pub[0].Version.Compare(pub[1].Version) >= 0 {
		t.Fatalf("published = %+v", pub)
	}
	if v := counterValue(t, e.svc.metrics.ops.WithLabelValues(opGet, resultNotFound)); v != 2 {
		t.Fatalf("get not_found = %v", v)
	}
}

func TestExpiredIsInvisible(t *testing.T) {
	e := newSvcEnv(t)
	// Written by a peer whose entry has since expired.
	_, err := e.svc.ApplyRemote([]Entry{{Namespace: "ns", Key: "old", Value: []byte("x"), Expiration: testNow.Unix(),
		Version: Version{HLC: hlc.New(1, 0), Node: "n2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(context.Background(), "ns", "old"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("expired entry visible: %v", err)
	}
	got, err := e.svc.GetMany(context.Background(), "ns", []string{"old"})
	if err != nil || len(got) != 0 {
		t.Fatalf("get many = %v, %v", got, err)
	}
}

// TestWriteLimitEdges: each limit passes, one past it fails and nothing is
// stored or published.
func TestWriteLimitEdges(t *testing.T) {
	meta := []byte(`{"a":"` + strings.Repeat("x", MaxMetadataBytes-8) + `"}`)
	over := bytes.Replace(meta, []byte(`"}`), []byte(`x"}`), 1)
	cases := []struct {
		name       string
		key        string
		value      []byte
		meta       []byte
		expiration int64
		want       error
	}{
		{"key 512", strings.Repeat("k", MaxKeyBytes), nil, nil, 0, nil},
		{"key 513", strings.Repeat("k", MaxKeyBytes+1), nil, nil, 0, ErrInvalidKey},
		{"key empty", "", nil, nil, 0, ErrInvalidKey},
		{"key dot", ".", nil, nil, 0, ErrInvalidKey},
		{"key dotdot", "..", nil, nil, 0, ErrInvalidKey},
		{"value 25MiB", "v", make([]byte, MaxValueBytes), nil, 0, nil},
		{"value 25MiB+1", "v", make([]byte, MaxValueBytes+1), nil, 0, ErrValueTooLarge},
		{"metadata 1024", "m", nil, meta, 0, nil},
		{"metadata 1025", "m", nil, over, 0, ErrInvalidMetadata},
		{"metadata not json", "m", nil, []byte("{"), 0, ErrInvalidMetadata},
		{"expiration +60", "e", nil, nil, testNow.Unix() + 60, nil},
		{"expiration past", "e", nil, nil, testNow.Unix(), ErrInvalidExpiration},
		{"expiration negative", "e", nil, nil, -1, ErrInvalidExpiration},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newSvcEnv(t)
			_, err := e.svc.Put(context.Background(), "ns", c.key, c.value, c.meta, c.expiration)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want != nil {
				if !IsInvalid(err) {
					t.Errorf("IsInvalid(%v) = false", err)
				}
				if e.st.count("ns") != 0 || len(e.pub.published()) != 0 {
					t.Fatal("a refused write changed something")
				}
			}
		})
	}
}

func TestPutManyIsAllOrNothing(t *testing.T) {
	e := newSvcEnv(t)
	ctx := context.Background()
	items := []Entry{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "..", Value: []byte("3")}}
	err := e.svc.PutMany(ctx, "ns", items)
	if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "item 2") {
		t.Fatalf("err = %v", err)
	}
	if e.st.count("ns") != 0 || len(e.pub.published()) != 0 {
		t.Fatal("a refused bulk write changed something")
	}
	items[2].Key = "a" // the later duplicate wins
	if err := e.svc.PutMany(ctx, "ns", items); err != nil {
		t.Fatal(err)
	}
	if e.st.applies != 1 {
		t.Fatalf("applies = %d, want one for the whole batch", e.st.applies)
	}
	if got, _ := e.svc.Get(ctx, "ns", "a"); string(got.Value) != "3" {
		t.Fatalf("a = %q", got.Value)
	}
	if err := e.svc.PutMany(ctx, "ns", make([]Entry, MaxBulkWrite+1)); !errors.Is(err, ErrTooManyKeys) {
		t.Fatalf("over-size bulk: %v", err)
	}
}

func TestDeleteManyAndGetMany(t *testing.T) {
	e := newSvcEnv(t)
	ctx := context.Background()
	var items []Entry
	for i := range 5 {
		items = append(items, Entry{Key: fmt.Sprint("k", i), Value: []byte{byte('0' + i)}})
	}
	if err := e.svc.PutMany(ctx, "ns", items); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteMany(ctx, "ns", []string{"k1", ""}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := e.svc.Get(ctx, "ns", "k1"); err != nil {
		t.Fatal("a refused bulk delete deleted")
	}
	if err := e.svc.DeleteMany(ctx, "ns", []string{"k1", "k3", "missing"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.GetMany(ctx, "ns", []string{"k4", "k1", "k0", "missing", "k0"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, g := range got {
		keys = append(keys, g.Key)
	}
	if strings.Join(keys, ",") != "k4,k0" {
		t.Fatalf("get many = %v", keys)
	}
	if _, err := e.svc.GetMany(ctx, "ns", make([]string, MaxBulkGet+1)); !errors.Is(err, ErrTooManyKeys) {
		t.Fatalf("101 keys: %v", err)
	}
}

func TestListPagesWithCursor(t *testing.T) {
	e := newSvcEnv(t)
	ctx := context.Background()
	var items []Entry
	for i := range 2500 {
		items = append(items, Entry{Key: fmt.Sprintf("p/%05d", i)})
	}
	items = append(items, Entry{Key: "q/other"})
	if err := e.svc.PutMany(ctx, "ns", items); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delete(ctx, "ns", "p/00007"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("cursor never ended")
		}
		got, next, err := e.svc.List(ctx, "ns", "p/", cursor, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			seen = append(seen, g.Key)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 2499 || seen[0] != "p/00000" || seen[7] != "p/00008" || seen[2498] != "p/02499" {
		t.Fatalf("listed %d keys: %v...", len(seen), seen[:min(len(seen), 10)])
	}
	for _, limit := range []int{MinListLimit - 1, MaxListLimit + 1, -1} {
		if _, _, err := e.svc.List(ctx, "ns", "", "", limit); !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
	for _, limit := range []int{MinListLimit, MaxListLimit} {
		if got, _, err := e.svc.List(ctx, "ns", "", "", limit); err != nil || len(got) != limit {
			t.Errorf("limit %d: %d keys, %v", limit, len(got), err)
		}
	}
	if _, _, err := e.svc.List(ctx, "ns", "", "!!", 0); !errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestApplyRemoteObservesClock(t *testing.T) {
	e := newSvcEnv(t)
	ahead := hlc.New(testNow.UnixMilli()+10_000, 5)
	applied, err := e.svc.ApplyRemote([]Entry{{Namespace: "ns", Key: "k", Value: []byte("remote"), Version: Version{HLC: ahead, Node: "n2"}}})
	if err != nil || len(applied) != 1 || !applied[0] {
		t.Fatalf("apply = %v, %v", applied, err)
	}
	if len(e.pub.published()) != 0 {
		t.Fatal("remote entries must not be published again")
	}
	// A local write after it must win, though the local wall clock is behind.
	if _, err := e.svc.Put(context.Background(), "ns", "k", []byte("local"), nil, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Get(context.Background(), "ns", "k"); string(got.Value) != "local" {
		t.Fatalf("k = %q", got.Value)
	}
	// An older remote write loses.
	applied, _ = e.svc.ApplyRemote([]Entry{{Namespace: "ns", Key: "k", Value: []byte("stale"), Version: Version{HLC: ahead - 1, Node: "n3"}}})
	if applied[0] {
		t.Fatal("older remote write applied")
	}
}

func TestStorageFailureIsAnError(t *testing.T) {
	e := newSvcEnv(t)
	e.st.fail = errors.New("disk gone")
	_, err := e.svc.Put(context.Background(), "ns", "k", nil, nil, 0)
	if err == nil || IsInvalid(err) || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("err = %v", err)
	}
	if len(e.pub.published()) != 0 {
		t.Fatal("a failed write was published")
	}
	if v := counterValue(t, e.svc.metrics.ops.WithLabelValues(opPut, resultError)); v != 1 {
		t.Fatalf("put error = %v", v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.svc.Get(ctx, "ns", "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

// A cursor is accepted only as issued: the base64 of a valid key without
// its checksum, or with one byte changed, is refused.
func TestCursorNeedsItsChecksum(t *testing.T) {
	c := EncodeCursor("user/42")
	if k, err := DecodeCursor(c); err != nil || k != "user/42" {
		t.Fatalf("issued cursor: %q %v", k, err)
	}
	bare := base64.RawURLEncoding.EncodeToString([]byte("user/42"))
	if _, err := DecodeCursor(bare); !errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("bare key as cursor: %v", err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(c)
	raw[0] ^= 1
	if _, err := DecodeCursor(base64.RawURLEncoding.EncodeToString(raw)); !errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("edited cursor: %v", err)
	}
}

func FuzzListCursor(f *testing.F) {
	for _, s := range []string{"", "a", "a/b", strings.Repeat("z", MaxKeyBytes)} {
		f.Add(EncodeCursor(s))
	}
	f.Add("!!")
	f.Add("YQ==")
	f.Fuzz(func(t *testing.T, cursor string) {
		key, err := DecodeCursor(cursor)
		if err != nil {
			if !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("error %v is not ErrInvalidCursor", err)
			}
			return
		}
		if cursor == "" {
			if key != "" {
				t.Fatal("empty cursor decoded to a key")
			}
			return
		}
		if ValidateKey(key) != nil {
			t.Fatalf("cursor %q decoded to invalid key %q", cursor, key)
		}
		if EncodeCursor(key) != cursor {
			t.Fatalf("cursor %q is not canonical: re-encodes to %q", cursor, EncodeCursor(key))
		}
	})
}

// counterValue reads a counter's current value.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestOpsSeriesExistBeforeUse: every op/result series of edge_kv_ops_total
// is exported at zero before the first operation.
func TestOpsSeriesExistBeforeUse(t *testing.T) {
	e := newSvcEnv(t)
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "edge_kv_ops_total" {
			continue
		}
		if n := len(f.GetMetric()); n != 8*5 {
			t.Fatalf("edge_kv_ops_total has %d series before use, want 40", n)
		}
		return
	}
	t.Fatal("edge_kv_ops_total not exported before use")
}
