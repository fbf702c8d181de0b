package kv

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/prometheus/client_golang/prometheus"
)

// TestServiceOverStore runs the service's contract against the real
// pebble store rather than the fake.
func TestServiceOverStore(t *testing.T) {
	st, err := OpenStore(StoreConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	pub := &recordingPublisher{}
	svc, err := NewService(ServiceConfig{Storage: st, Clock: hlc.NewClock(nil), NodeID: "n1", Publisher: pub,
		Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()

	if _, err := svc.Put(ctx, "ns", "k", []byte("v"), []byte(`{"a":1}`), now.Unix()+120); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Get(ctx, "ns", "k")
	if err != nil || string(got.Value) != "v" || string(got.Metadata) != `{"a":1}` || got.Version.Node != "n1" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if err := svc.Delete(ctx, "ns", "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, "ns", "k"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := svc.Put(ctx, "ns", "..", nil, nil, 0); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("bad key: %v", err)
	}

	items := []Entry{{Key: "x/1"}, {Key: ".."}}
	if err := svc.PutMany(ctx, "ns", items); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("bad bulk: %v", err)
	}
	if _, err := svc.Get(ctx, "ns", "x/1"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatal("a refused bulk write wrote")
	}
	items = items[:0]
	for i := range 2500 {
		items = append(items, Entry{Key: fmt.Sprintf("x/%04d", i), Value: []byte("v")})
	}
	if err := svc.PutMany(ctx, "ns", items); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteMany(ctx, "ns", []string{"x/0000", "x/0001"}); err != nil {
		t.Fatal(err)
	}
	// An expired entry from a peer is invisible at once.
	if _, err := svc.ApplyRemote([]Entry{{Namespace: "ns", Key: "x/0002", Expiration: now.Unix() - 1,
		Version: Version{HLC: hlc.New(now.UnixMilli()+60_000, 0), Node: "n2"}}}); err != nil {
		t.Fatal(err)
	}
	count, cursor := 0, ""
	for page := 0; page < 10; page++ {
		got, next, err := svc.List(ctx, "ns", "x/", cursor, 0)
		if err != nil {
			t.Fatal(err)
		}
		if page == 0 && (len(got) == 0 || got[0].Key != "x/0003") {
			t.Fatalf("first page starts at %v", got[:min(1, len(got))])
		}
		count += len(got)
		if next == "" {
			break
		}
		cursor = next
	}
	if count != 2497 {
		t.Fatalf("listed %d live keys, want 2497", count)
	}
	many, err := svc.GetMany(ctx, "ns", []string{"x/0001", "x/0002", "x/0005", "nope"})
	if err != nil || len(many) != 1 || many[0].Key != "x/0005" {
		t.Fatalf("get many = %v, %v", many, err)
	}
	// A local write after the remote one orders after it.
	e, err := svc.Put(ctx, "ns", "x/0002", []byte("local"), nil, 0)
	if err != nil || e.Version.HLC <= hlc.New(now.UnixMilli()+60_000, 0) {
		t.Fatalf("local version %v after observing a later remote one: %v", e.Version, err)
	}
}
