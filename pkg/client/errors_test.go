package client

import (
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestAPIErrorFormatsOneLine(t *testing.T) {
	cases := []struct {
		name string
		err  *APIError
		want string
	}{
		{"one error", &APIError{Status: 401, Errors: []wire.Error{{Code: 10000, Message: "Authentication error"}}},
			"HTTP 401: Authentication error (10000)"},
		{"several errors", &APIError{Status: 400, Errors: []wire.Error{{Code: 1001, Message: "bad key"}, {Code: 6007, Message: "bad json"}}},
			"HTTP 400: bad key (1001); bad json (6007)"},
		{"no errors", &APIError{Status: 502}, "HTTP 502: Bad Gateway"},
		{"unknown status", &APIError{Status: 599}, "HTTP 599: request failed"},
		{"zero code", &APIError{Status: 503, Errors: []wire.Error{{Message: "no leader"}}}, "HTTP 503: no leader"},
		{"multi-line message", &APIError{Status: 500, Errors: []wire.Error{{Code: 1000, Message: "a\nb"}}},
			"HTTP 500: a b (1000)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.err.Error()
			if got != tc.want {
				t.Fatalf("Error() = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, "\n") {
				t.Fatalf("Error() has a line break: %q", got)
			}
		})
	}
}

func TestAPIErrorHasCode(t *testing.T) {
	e := &APIError{Status: 404, Errors: []wire.Error{{Code: 7003, Message: "x"}}}
	if !e.HasCode(7003) || e.HasCode(10000) {
		t.Fatalf("HasCode wrong for %v", e)
	}
}
