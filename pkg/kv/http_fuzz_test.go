package kv

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
)

const fuzzKeyPrefix = "/client/v4/accounts/a/storage/kv/namespaces/n/values/"

func FuzzKVKeyFromPath(f *testing.F) {
	for _, s := range []string{"k", "a/b", "a%2Fb", "%2E%2E", "..", ".", "%zz", "a%2", "", "%E2%9C%93", strings.Repeat("%41", 513), "x%FF", "%C0%80", "%ED%A0%80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		key, err := kvKeyFromPath(fuzzKeyPrefix + rest)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("%q: error %v is not ErrInvalidKey", rest, err)
			}
			return
		}
		if ValidateKey(key) != nil {
			t.Fatalf("%q: accepted invalid key %q", rest, key)
		}
		if want, uerr := url.PathUnescape(rest); uerr != nil || want != key {
			t.Fatalf("%q: key %q, want one decoding %q", rest, key, want)
		}
		// What a client that escapes keys sends decodes to the same key.
		if back, err := kvKeyFromPath(fuzzKeyPrefix + url.PathEscape(key)); err != nil || back != key {
			t.Fatalf("%q: escaped round trip gave %q, %v", key, back, err)
		}
	})
}

func FuzzMetadataPart(f *testing.F) {
	f.Add([]byte("v"), []byte(`{"a":1}`))
	f.Add([]byte(""), []byte(``))
	f.Add([]byte("x"), []byte(`{`))
	f.Add([]byte("x"), bytes.Repeat([]byte("a"), 1100))
	f.Fuzz(func(t *testing.T, value, metadata []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("value", "v")
		_, _ = fw.Write(value)
		mf, _ := mw.CreateFormField("metadata")
		_, _ = mf.Write(metadata)
		_ = mw.Close()
		gotV, gotM, err := readMultipartValue(multipart.NewReader(&buf, mw.Boundary()))
		if len(metadata) > MaxMetadataBytes {
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("metadata of %d bytes: %v", len(metadata), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("well-formed body refused: %v", err)
		}
		if !bytes.Equal(gotV, value) || !bytes.Equal(gotM, metadata) {
			t.Fatalf("parts changed: %q %q", gotV, gotM)
		}
		// The metadata verdict is the limit rule's, whatever the framing.
		if (ValidateMetadata(gotM) == nil) != json.Valid(metadata) {
			t.Fatalf("metadata %q judged wrongly", metadata)
		}
		// And arbitrary bytes as a whole body never panic.
		_, _, _ = readMultipartValue(multipart.NewReader(bytes.NewReader(append(metadata, value...)), "X"))
	})
}
