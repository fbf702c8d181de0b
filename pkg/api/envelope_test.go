package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestWriteResultEnvelope(t *testing.T) {
	w := httptest.NewRecorder()
	WriteResult(w, http.StatusCreated, map[string]int{"x": 1}, &wire.ResultInfo{Page: 1, PerPage: 20, Count: 1, TotalCount: 1})
	if w.Code != http.StatusCreated {
		t.Fatalf("status = %d", w.Code)
	}
	env := envelope(t, w)
	if !env.Success || string(env.Result) != `{"x":1}` || env.ResultInfo == nil || env.ResultInfo.TotalCount != 1 {
		t.Fatalf("envelope = %s", w.Body)
	}
	if w.Header().Get("x-should-retry") != "" {
		t.Fatal("success must not carry x-should-retry")
	}
}

func TestWriteResultNilResult(t *testing.T) {
	w := httptest.NewRecorder()
	WriteResult(w, http.StatusOK, nil, nil)
	env := envelope(t, w)
	if !env.Success || string(env.Result) != "null" || strings.Contains(w.Body.String(), "result_info") {
		t.Fatalf("body = %s", w.Body)
	}
}

func TestWriteResultUnencodable(t *testing.T) {
	w := httptest.NewRecorder()
	WriteResult(w, http.StatusOK, func() {}, nil)
	wantError(t, w, http.StatusInternalServerError, CodeInternal)
}

func TestWriteErrorsNil(t *testing.T) {
	w := httptest.NewRecorder()
	WriteErrors(w, http.StatusBadRequest, nil)
	env := envelope(t, w)
	if env.Success || len(env.Errors) != 0 {
		t.Fatalf("body = %s", w.Body)
	}
}

func TestWriteFailureMapping(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   int
	}{
		{fmt.Errorf("x: %w", ErrBadRequest), 400, CodeBadRequest},
		{fmt.Errorf("x: %w", catalog.ErrInvalid), 400, CodeBadRequest},
		{fmt.Errorf("x: %w", ErrNotFound), 404, CodeNotFound},
		{fmt.Errorf("x: %w", catalog.ErrNotFound), 404, CodeNotFound},
		{fmt.Errorf("x: %w", ErrConflict), 409, CodeConflict},
		{fmt.Errorf("x: %w", catalog.ErrExists), 409, CodeConflict},
		{fmt.Errorf("x: %w", ErrBodyTooLarge), 413, CodeBodyTooLarge},
		{&http.MaxBytesError{Limit: 10}, 413, CodeBodyTooLarge},
		{fmt.Errorf("x: %w", ErrUnavailable), 503, CodeUnavailable},
		{context.DeadlineExceeded, 503, CodeUnavailable},
		{&HTTPError{Status: 418, Code: 42, Message: "teapot"}, 418, 42},
		{errors.New("disk on fire at /var/secret"), 500, CodeInternal},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		WriteFailure(w, httptest.NewRequest("GET", "/", nil), c.err)
		env := wantError(t, w, c.status, c.code)
		if c.status == 500 && strings.Contains(env.Errors[0].Message, "secret") {
			t.Errorf("500 leaks the internal error: %q", env.Errors[0].Message)
		}
		// A 503 tells the client when to retry; nothing else does.
		if got, want := w.Header().Get("Retry-After") != "", c.status == 503; got != want {
			t.Errorf("%d: Retry-After %q", c.status, w.Header().Get("Retry-After"))
		}
	}
	// A handler's own Retry-After stands.
	w := httptest.NewRecorder()
	w.Header().Set("Retry-After", "7")
	WriteFailure(w, httptest.NewRequest("GET", "/", nil), ErrUnavailable)
	if got := w.Header().Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q, want the handler's 7", got)
	}
}

func TestPermanent(t *testing.T) {
	cases := map[int]bool{
		200: false, 301: false, 400: true, 401: true, 403: true, 404: true, 405: true,
		408: false, 409: false, 413: true, 429: false, 499: true, 500: false, 503: false,
	}
	for status, want := range cases {
		if got := permanent(status); got != want {
			t.Errorf("permanent(%d) = %v, want %v", status, got, want)
		}
	}
}

// TestWriteEmptyResultMatchesWriteResult: the precomputed body is exactly
// what encoding an empty result gives.
func TestWriteEmptyResultMatchesWriteResult(t *testing.T) {
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	WriteResult(a, http.StatusOK, struct{}{}, nil)
	WriteEmptyResult(b)
	if a.Body.String() != b.Body.String() || a.Code != b.Code ||
		a.Header().Get("Content-Type") != b.Header().Get("Content-Type") {
		t.Fatalf("WriteEmptyResult = %d %q %q, WriteResult = %d %q %q", b.Code, b.Header(), b.Body, a.Code, a.Header(), a.Body)
	}
}
