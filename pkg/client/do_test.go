package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestDoSendsAuthAndJSONAndDecodesResult(t *testing.T) {
	var gotAuth, gotType, gotBody, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		gotType = r.Header.Get("Content-Type")
		gotQuery = r.URL.RawQuery
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		raw, _ := json.Marshal(map[string]string{"id": "ns1"})
		writeTestJSON(w, http.StatusOK, wire.Envelope{Success: true, Result: raw, ResultInfo: &wire.ResultInfo{Page: 2, Count: 1}})
	}))
	defer srv.Close()
	c, err := New([]string{srv.URL}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		ID string `json:"id"`
	}
	info, err := c.Do(context.Background(), http.MethodPost, "/client/v4/x?page=2", map[string]string{"title": "t"}, &res)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if res.ID != "ns1" || info == nil || info.Page != 2 {
		t.Fatalf("result %+v info %+v", res, info)
	}
	if gotAuth != "Bearer tok" || gotType != "application/json" || gotBody != `{"title":"t"}` || gotQuery != "page=2" {
		t.Fatalf("request: auth %q type %q body %q query %q", gotAuth, gotType, gotBody, gotQuery)
	}
}

func TestDoOmitsAuthWithoutToken(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Values("Authorization")
		writeTestEnvelope(w, http.StatusOK, nil)
	}))
	defer srv.Close()
	c, _ := New([]string{srv.URL}, "")
	if _, err := c.Do(context.Background(), http.MethodGet, "client/v4/x", nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(gotAuth) != 0 {
		t.Fatalf("Authorization sent without a token: %q", gotAuth)
	}
}

func TestDoReturnsAPIErrors(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"envelope error", func(w http.ResponseWriter, _ *http.Request) {
			writeTestFailure(w, http.StatusUnauthorized, wire.Error{Code: 10000, Message: "Authentication error"})
		}, "HTTP 401: Authentication error (10000)"},
		{"not an envelope", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
		}, "HTTP 502: Bad Gateway"},
		{"success false with 200", func(w http.ResponseWriter, _ *http.Request) {
			writeTestFailure(w, http.StatusOK, wire.Error{Code: 1001, Message: "nope"})
		}, "HTTP 200: nope (1001)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c, _ := New([]string{srv.URL}, "tok")
			_, err := c.Do(context.Background(), http.MethodGet, "/client/v4/x", nil, nil)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if ae.Error() != tc.want {
				t.Fatalf("err = %q, want %q", ae.Error(), tc.want)
			}
		})
	}
}

func TestDoRejectsNonEnvelopeSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "plain text")
	}))
	defer srv.Close()
	c, _ := New([]string{srv.URL}, "tok")
	_, err := c.Do(context.Background(), http.MethodGet, "/x", nil, nil)
	if !errors.Is(err, ErrBadResponse) {
		t.Fatalf("err = %v, want ErrBadResponse", err)
	}
}

func TestDoTransportErrorIsOneLine(t *testing.T) {
	c, _ := New([]string{deadEndpoint(t)}, "tok")
	_, err := c.Do(context.Background(), http.MethodGet, "/client/v4/cluster/members", nil, nil)
	if err == nil {
		t.Fatal("Do against a dead endpoint succeeded")
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error has a line break: %q", err)
	}
}

func TestWithTimeoutBoundsRequests(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	base := &http.Client{}
	c, _ := New([]string{srv.URL}, "", WithHTTPClient(base), WithTimeout(100*time.Millisecond))
	start := time.Now()
	_, err := c.Do(context.Background(), http.MethodGet, "/x", nil, nil)
	if err == nil {
		t.Fatal("Do against a hanging server succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout not applied: took %v", d)
	}
	if base.Timeout != 0 {
		t.Fatalf("WithTimeout changed the caller's http.Client: %v", base.Timeout)
	}
}
