// Package wiretest checks Cloudflare v4 envelopes in tests strictly: the
// four fields present, errors and messages arrays (never null), nothing
// unknown, a null result on errors. The API's own tests and every
// service's HTTP tests share it.
package wiretest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// DecodeEnvelope decodes a v4 envelope strictly, failing the test when the
// body is not one.
func DecodeEnvelope(t testing.TB, body []byte) wire.Envelope {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, body)
	}
	for _, k := range []string{"success", "errors", "messages", "result"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("envelope lacks %q: %s", k, body)
		}
	}
	var env wire.Envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("decode envelope: %v: %s", err, body)
	}
	if env.Errors == nil || env.Messages == nil {
		t.Fatalf("errors and messages must be arrays, not null: %s", body)
	}
	return env
}

// WantError checks an error envelope's status and code.
func WantError(t testing.TB, w *httptest.ResponseRecorder, status, code int) wire.Envelope {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	env := DecodeEnvelope(t, w.Body.Bytes())
	if env.Success {
		t.Fatalf("success = true on an error: %s", w.Body)
	}
	if len(env.Errors) != 1 || env.Errors[0].Code != code {
		t.Fatalf("errors = %+v, want one with code %d", env.Errors, code)
	}
	if string(env.Result) != "null" {
		t.Fatalf("result = %s, want null", env.Result)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	return env
}

// Result decodes a successful envelope's result into v (nil skips it).
func Result(t testing.TB, w *httptest.ResponseRecorder, v any) wire.Envelope {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	env := DecodeEnvelope(t, w.Body.Bytes())
	if !env.Success || len(env.Errors) != 0 {
		t.Fatalf("not a success envelope: %s", w.Body)
	}
	if v != nil {
		if err := json.Unmarshal(env.Result, v); err != nil {
			t.Fatalf("decode result: %v: %s", err, env.Result)
		}
	}
	return env
}
