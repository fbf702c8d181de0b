package kv

import (
	"bytes"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

// FuzzStoreCodec round-trips arbitrary entries through the on-disk key and
// value encoding, and feeds arbitrary bytes to the decoders (which must
// return an error, never panic).
func FuzzStoreCodec(f *testing.F) {
	f.Add("ns", "key", []byte("v"), []byte(`{"a":1}`), int64(0), uint64(1), "node", false, true)
	f.Add("", "\xff\x00/", []byte{}, []byte{}, int64(-1), uint64(0), "", true, false)
	f.Fuzz(func(t *testing.T, ns, key string, value, meta []byte, exp int64, ts uint64, node string, tomb, hasMeta bool) {
		if !hasMeta {
			meta = nil
		}
		e := Entry{Namespace: ns, Key: key, Value: value, Metadata: meta, Expiration: exp,
			Version: Version{HLC: hlc.Timestamp(ts), Node: node}, Tombstone: tomb}
		k, v := entryKey(ns, key), encodeValue(e)
		got, err := decodeEntry(k, v, true)
		if err != nil {
			t.Fatal(err)
		}
		if got.Namespace != ns || got.Key != key || !bytes.Equal(got.Value, value) || got.Expiration != exp ||
			got.Version != e.Version || got.Tombstone != tomb || (got.Metadata == nil) != (meta == nil) || !bytes.Equal(got.Metadata, meta) {
			t.Fatalf("round trip: %+v -> %+v", e, got)
		}
		if !bytes.HasPrefix(k, nsPrefix(ns)) || bytes.Compare(k, prefixEnd(nsPrefix(ns))) >= 0 {
			t.Fatal("key outside its namespace range")
		}
		// Garbage must not panic the decoders.
		_, _ = decodeEntry(value, meta, true)
		_, _ = decodeEntry(k, value, false)
	})
}
