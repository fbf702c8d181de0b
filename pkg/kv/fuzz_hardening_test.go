package kv

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/hlc"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// FuzzBulkDecode: whatever the body, the bulk decoder either refuses it
// with a client error (never a 5xx, never a Go type name) or returns
// entries that every write check accepts.
func FuzzBulkDecode(f *testing.F) {
	for _, s := range []string{
		`[{"key":"a","value":"1"}]`, `[{"key":"a"}]`, `{"key":"a"}`, `[]`, ``, `[`, `["a"]`,
		`[{"key":"b","value":"AAE=","base64":true,"metadata":{"m":1},"expiration_ttl":120}]`,
		"[{\"key\":\"x\xff\",\"value\":\"v\"}]", `[{"key":"a","value":null}]`, `[{"key":1,"value":"1"}]`,
		`[{"key":"a","value":"1"}] x`, `[{"key":"a","value":"1","metadata":"\ud800"}]`,
	} {
		f.Add([]byte(s))
	}
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := decodeBulkPut(bytes.NewReader(body), now)
		if err != nil {
			status := http.StatusBadRequest
			var he *api.HTTPError
			if errors.As(kvHTTPError(err), &he) {
				status = he.Status
				if strings.Contains(he.Message, "wire.") || strings.Contains(he.Message, "kv.") {
					t.Fatalf("message names a Go type: %q", he.Message)
				}
			} else if !errors.Is(err, ErrTooManyKeys) {
				t.Fatalf("%q: not a client error: %v", body, err)
			}
			if status >= 500 {
				t.Fatalf("%q: status %d", body, status)
			}
			return
		}
		for _, e := range items {
			if err := ValidateKey(e.Key); err != nil {
				t.Fatalf("accepted key %q: %v", e.Key, err)
			}
			if err := ValidateMetadata(e.Metadata); err != nil {
				t.Fatalf("accepted metadata %q: %v", e.Metadata, err)
			}
			if ValidateValue(e.Value) != nil {
				t.Fatal("accepted an oversized value")
			}
		}
	})
}

// FuzzReplicationReceive: a push batch as bytes off the wire; whatever
// decodes, every entry the receiver keeps passes every rule (so it can be
// stored, read back, and sent on), and it never panics.
func FuzzReplicationReceive(f *testing.F) {
	now := time.Now()
	ts := uint64(hlc.NewClock(func() time.Time { return now }).Now())
	future := uint64(hlc.NewClock(func() time.Time { return now.Add(time.Hour) }).Now())
	for _, b := range []*edgev1.PushBatch{
		{Seq: 1, OriginNode: "n1", Entries: []*edgev1.KVEntry{{Ns: "ns", Key: "k", Value: []byte("v"), Hlc: ts, Node: "n1"}}},
		{Seq: 2, Entries: []*edgev1.KVEntry{{Ns: "ns", Key: "k", Hlc: future, Node: "n1"}}},
		{Seq: 3, Entries: []*edgev1.KVEntry{{Ns: "ns", Key: "k", Metadata: []byte("{"), Hlc: ts, Node: "n1"}}},
		{Seq: 4, Entries: []*edgev1.KVEntry{{Ns: "", Key: strings.Repeat("k", 600), Hlc: ts, Node: "n1", Tombstone: true}}},
	} {
		raw, err := proto.Marshal(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var b edgev1.PushBatch
		if proto.Unmarshal(raw, &b) != nil {
			return // the stream fails before the receiver sees it
		}
		r := &Replicator{log: discardLogger(), metrics: mustReplMetrics(t), now: func() time.Time { return now }}
		kept := r.filterReplicated(entriesFromProto(b.GetEntries()), "push-in", b.GetOriginNode())
		for _, e := range kept {
			if reason, err := checkReplicated(e, now); err != nil {
				t.Fatalf("kept an entry refused for %s: %v", reason, err)
			}
			if !utf8.ValidString(e.Key) || !utf8.ValidString(e.Namespace) || !utf8.ValidString(e.Version.Node) {
				t.Fatal("kept invalid UTF-8")
			}
			if _, err := proto.Marshal(entryToProto(e)); err != nil {
				t.Fatalf("kept an entry that cannot be sent on: %v", err)
			}
			if e.Version.HLC.Time().Sub(now) > MaxClockSkew {
				t.Fatal("kept an entry from the future")
			}
		}
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func mustReplMetrics(t *testing.T) *replMetrics {
	m, err := newReplMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}
