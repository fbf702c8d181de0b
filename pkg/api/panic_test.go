package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestPanicBecomes500Envelope(t *testing.T) {
	env := newEnv(t, nil)
	env.srv.Mount("GET /client/v4/boom", "boom", 0, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom secret-detail")
	}))
	r := request(http.MethodGet, "/client/v4/boom", testAdmin, nil)
	r.Header.Set(HeaderRequestID, "rid-panic")
	w := env.serve(r)
	e := wantError(t, w, http.StatusInternalServerError, CodeInternal)
	body := w.Body.String()
	for _, leak := range []string{"kaboom", "secret-detail", "goroutine", ".go:"} {
		if strings.Contains(body, leak) {
			t.Fatalf("response leaks %q: %s", leak, body)
		}
	}
	if !strings.Contains(e.Errors[0].Message, "rid-panic") {
		t.Errorf("message %q does not name the request id", e.Errors[0].Message)
	}
	if w.Header().Get("x-should-retry") != "" {
		t.Error("500 must stay retryable")
	}
	logs := env.log.String()
	if !strings.Contains(logs, "panic in http handler") || !strings.Contains(logs, "kaboom secret-detail") ||
		!strings.Contains(logs, `"status":500`) {
		t.Fatalf("log lacks the panic or the access line: %s", logs)
	}
}

func TestPanicAfterWriteKeepsStatus(t *testing.T) {
	env := newEnv(t, nil)
	env.srv.Mount("GET /client/v4/half", "half", 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		panic("late")
	}))
	w := env.serve(request(http.MethodGet, "/client/v4/half", testAdmin, nil))
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d", w.Code)
	}
	if !strings.Contains(env.log.String(), "panic in http handler") {
		t.Fatal("panic not logged")
	}
}

func TestAbortHandlerPropagates(t *testing.T) {
	env := newEnv(t, nil)
	env.srv.Mount("GET /client/v4/abort", "abort", 0, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	env.serve(request(http.MethodGet, "/client/v4/abort", testAdmin, nil))
	t.Fatal("ErrAbortHandler was swallowed")
}
