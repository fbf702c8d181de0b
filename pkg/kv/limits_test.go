package kv

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

func TestKeyLimitEdges(t *testing.T) {
	if err := ValidateKey(strings.Repeat("k", MaxKeyBytes)); err != nil {
		t.Fatalf("512-byte key refused: %v", err)
	}
	for _, k := range []string{"", ".", "..", strings.Repeat("k", MaxKeyBytes+1)} {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("key of %d bytes %q: %v", len(k), k[:min(len(k), 3)], err)
		}
	}
	if err := ValidateKey("a/.."); err != nil {
		t.Errorf("dots inside a key are fine: %v", err)
	}
}

func TestValueAndMetadataLimitEdges(t *testing.T) {
	if err := ValidateValue(make([]byte, MaxValueBytes)); err != nil {
		t.Fatal(err)
	}
	if err := ValidateValue(make([]byte, MaxValueBytes+1)); !errors.Is(err, ErrValueTooLarge) {
		t.Fatal(err)
	}
	meta := []byte(`{"a":"` + strings.Repeat("x", MaxMetadataBytes-8) + `"}`)
	if len(meta) != MaxMetadataBytes {
		t.Fatalf("test metadata is %d bytes", len(meta))
	}
	if err := ValidateMetadata(meta); err != nil {
		t.Fatal(err)
	}
	over := bytes.Replace(meta, []byte(`"}`), []byte(`x"}`), 1)
	if err := ValidateMetadata(over); !errors.Is(err, ErrInvalidMetadata) {
		t.Fatal(err)
	}
	if err := ValidateMetadata([]byte(`{not json`)); !errors.Is(err, ErrInvalidMetadata) {
		t.Fatal(err)
	}
}

func TestExpirationEdges(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	if got, err := ResolveExpiration(0, 60, now); err != nil || got != now.Unix()+60 {
		t.Fatalf("ttl 60: %d %v", got, err)
	}
	if _, err := ResolveExpiration(0, 59, now); !errors.Is(err, ErrInvalidExpiration) {
		t.Fatalf("ttl 59: %v", err)
	}
	if got, err := ResolveExpiration(now.Unix()+60, 0, now); err != nil || got != now.Unix()+60 {
		t.Fatalf("expiration +60: %d %v", got, err)
	}
	if _, err := ResolveExpiration(now.Unix()+59, 0, now); !errors.Is(err, ErrInvalidExpiration) {
		t.Fatalf("expiration +59: %v", err)
	}
	if got, _ := ResolveExpiration(now.Unix()+600, 120, now); got != now.Unix()+120 {
		t.Fatalf("ttl should win over expiration: %d", got)
	}
}

func TestLastWriterWinsIsATotalOrder(t *testing.T) {
	a := Entry{Version: Version{HLC: hlc.New(10, 0), Node: "a"}}
	b := Entry{Version: Version{HLC: hlc.New(10, 0), Node: "b"}}
	c := Entry{Version: Version{HLC: hlc.New(11, 0), Node: "a"}}
	if !b.Wins(a) || a.Wins(b) {
		t.Fatal("node id must break HLC ties")
	}
	if !c.Wins(b) || b.Wins(c) || c.Wins(c) {
		t.Fatal("newer HLC must win; an entry never beats itself")
	}
	now := time.Unix(100, 0)
	if (Entry{Expiration: 100}).Live(now) || !(Entry{Expiration: 101}).Live(now) || (Entry{Tombstone: true}).Live(now) {
		t.Fatal("liveness")
	}
}
