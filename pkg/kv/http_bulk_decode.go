package kv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/edgeplane/edgeplane/pkg/api"
)

// bulkPair is one item of a bulk write as sent. Key and Value stay raw
// until checked: an absent value is told from an empty one, and invalid
// UTF-8 is refused rather than silently replaced by U+FFFD as
// encoding/json does.
type bulkPair struct {
	Key           json.RawMessage `json:"key"`
	Value         json.RawMessage `json:"value"`
	Base64        bool            `json:"base64"`
	Expiration    int64           `json:"expiration"`
	ExpirationTTL int64           `json:"expiration_ttl"`
	Metadata      json.RawMessage `json:"metadata"`
}

// decodeBulkPut reads a bulk write body as a stream: the array's items are
// decoded one at a time and turned into entries at once, so the decoder
// holds one item and the request's memory is the entries themselves (the
// values as bytes) rather than the body text, its decoded strings and the
// entries together. Every limit is checked item by item; the first bad
// item refuses the request with a 400 naming it.
func decodeBulkPut(body io.Reader, now time.Time) ([]Entry, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, api.BadRequest(api.CodeMalformedJSON, "request body is empty; expected a JSON array")
	}
	if err != nil {
		return nil, bulkDecodeError(err, "")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, api.BadRequest(api.CodeMalformedJSON, "request body must be a JSON array of {key, value} objects")
	}
	var items []Entry
	for i := 0; dec.More(); i++ {
		if i >= MaxBulkWrite {
			return nil, fmt.Errorf("%w: more than %d pairs", ErrTooManyKeys, MaxBulkWrite)
		}
		var p bulkPair
		if err := dec.Decode(&p); err != nil {
			return nil, bulkDecodeError(err, fmt.Sprintf("bulk item %d: ", i))
		}
		e, err := bulkEntry(i, p, now)
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, bulkDecodeError(err, "")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, bulkDecodeError(err, "")
		}
		return nil, api.BadRequest(api.CodeMalformedJSON, "request body must hold a single JSON array")
	}
	return items, nil
}

// bulkEntry checks one decoded item and makes its entry.
func bulkEntry(i int, b bulkPair, now time.Time) (Entry, error) {
	if b.Key == nil || string(b.Key) == "null" {
		return Entry{}, fmt.Errorf("bulk item %d: %w: missing", i, ErrInvalidKey)
	}
	if !utf8.Valid(b.Key) {
		return Entry{}, fmt.Errorf("bulk item %d: %w: not valid UTF-8", i, ErrInvalidKey)
	}
	var key string
	if err := json.Unmarshal(b.Key, &key); err != nil {
		return Entry{}, api.BadRequest(api.CodeMalformedJSON, "bulk item %d: field \"key\" must be a string", i)
	}
	if err := ValidateKey(key); err != nil {
		return Entry{}, fmt.Errorf("bulk item %d: %w", i, err)
	}
	if b.Value == nil || string(b.Value) == "null" {
		return Entry{}, api.BadRequest(api.CodeBadRequest, "bulk item %d (key %q): value is missing", i, key)
	}
	if !utf8.Valid(b.Value) {
		return Entry{}, api.BadRequest(api.CodeBadRequest, "bulk item %d (key %q): value is not valid UTF-8 (send binary as base64)", i, key)
	}
	value, err := jsonStringBytes(b.Value)
	if err != nil {
		return Entry{}, api.BadRequest(api.CodeMalformedJSON, "bulk item %d (key %q): field \"value\" must be a string", i, key)
	}
	if b.Base64 {
		dst := make([]byte, base64.StdEncoding.DecodedLen(len(value)))
		n, err := base64.StdEncoding.Decode(dst, value)
		if err != nil {
			return Entry{}, api.BadRequest(api.CodeBadRequest, "bulk item %d (key %q): value is not valid base64", i, key)
		}
		value = dst[:n:n]
	}
	if b.Expiration < 0 || b.ExpirationTTL < 0 {
		return Entry{}, fmt.Errorf("bulk item %d (key %q): %w: negative", i, key, ErrInvalidExpiration)
	}
	exp, err := ResolveExpiration(b.Expiration, b.ExpirationTTL, now)
	if err != nil {
		return Entry{}, fmt.Errorf("bulk item %d (key %q): %w", i, key, err)
	}
	var meta []byte
	if !utf8.Valid(b.Metadata) {
		return Entry{}, fmt.Errorf("bulk item %d (key %q): %w: not valid UTF-8", i, key, ErrInvalidMetadata)
	}
	if len(b.Metadata) > 0 && !bytes.Equal(b.Metadata, []byte("null")) {
		// Compact, so the 1024-byte limit counts the serialized JSON and
		// not the request's indentation.
		var buf bytes.Buffer
		if err := json.Compact(&buf, b.Metadata); err != nil {
			return Entry{}, fmt.Errorf("bulk item %d (key %q): %w: not JSON", i, key, ErrInvalidMetadata)
		}
		meta = buf.Bytes()
	}
	if err := ValidateValue(value); err != nil {
		return Entry{}, fmt.Errorf("bulk item %d (key %q): %w", i, key, err)
	}
	if err := ValidateMetadata(meta); err != nil {
		return Entry{}, fmt.Errorf("bulk item %d (key %q): %w", i, key, err)
	}
	return Entry{Key: key, Value: value, Metadata: meta, Expiration: exp}, nil
}

// jsonStringBytes returns the bytes of the JSON string raw (a fresh copy
// the decoder made for this item): without escapes, raw's own bytes
// between the quotes, so a value is not copied again; with escapes, the
// unescaped copy encoding/json makes.
func jsonStringBytes(raw json.RawMessage) ([]byte, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 &&
		bytes.IndexByte(raw[1:len(raw)-1], '"') < 0 {
		return raw[1 : len(raw)-1 : len(raw)-1], nil
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return nil, err
	}
	return []byte(text), nil
}

// bulkDecodeError turns a decoder error into a clean client error: body
// limits, timeouts and short bodies keep their own answers; JSON of the
// wrong shape names the field and the type, never a Go type.
func bulkDecodeError(err error, where string) error {
	var (
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe), errors.Is(err, api.ErrBodyTimeout), errors.Is(err, api.ErrBodyIncomplete):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return api.BadRequest(api.CodeMalformedJSON, "%smalformed JSON in request body: unexpected end of input", where)
	case errors.As(err, &syn):
		return api.BadRequest(api.CodeMalformedJSON, "%smalformed JSON in request body at offset %d: %v", where, syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return api.BadRequest(api.CodeMalformedJSON, "%sexpected a {key, value} object, got a JSON %s", where, typ.Value)
		}
		return api.BadRequest(api.CodeMalformedJSON, "%sfield %q must be %s, not a JSON %s", where, field, jsonKind(typ.Type.Kind().String()), typ.Value)
	default:
		return api.BadRequest(api.CodeMalformedJSON, "%sinvalid request body: %v", where, err)
	}
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k string) string {
	switch k {
	case "string", "ptr":
		return "a string"
	case "bool":
		return "a boolean"
	case "int64", "int", "float64":
		return "a number"
	case "slice":
		return "an array or string"
	default:
		return "another type"
	}
}

// decodeBulkKeys reads a bulk delete body: a JSON array of key strings.
func decodeBulkKeys(body io.Reader) ([]string, error) {
	dec := json.NewDecoder(body)
	tok, err := dec.Token()
	if err != nil {
		return nil, bulkDecodeError(err, "")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, api.BadRequest(api.CodeMalformedJSON, "request body must be a JSON array of key strings")
	}
	keys := []string{}
	for i := 0; dec.More(); i++ {
		if i >= MaxBulkWrite {
			return nil, fmt.Errorf("%w: more than %d keys", ErrTooManyKeys, MaxBulkWrite)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bulkDecodeError(err, fmt.Sprintf("key %d: ", i))
		}
		if !utf8.Valid(raw) {
			return nil, fmt.Errorf("key %d: %w: not valid UTF-8", i, ErrInvalidKey)
		}
		var k string
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, api.BadRequest(api.CodeMalformedJSON, "key %d must be a string", i)
		}
		keys = append(keys, k)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bulkDecodeError(err, "")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, bulkDecodeError(err, "")
		}
		return nil, api.BadRequest(api.CodeMalformedJSON, "request body must hold a single JSON array")
	}
	return keys, nil
}
