package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	var v body
	if err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(`{"name":"a","n":2}`)), &v); err != nil || v.Name != "a" || v.N != 2 {
		t.Fatalf("good body: %+v, %v", v, err)
	}
	bad := map[string]string{
		"":                 "empty",
		"   ":              "empty",
		`{"name":`:         "unexpected end",
		`{"name":"a",}`:    "offset",
		`{"n":"x"}`:        `field "n"`,
		`{"other":1}`:      "unknown field",
		`{"name":"a"}{}`:   "single JSON value",
		`{"name":"a"} xyz`: "offset",
	}
	for in, want := range bad {
		err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(in)), &v)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusBadRequest || !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: err = %v, want a 400 HTTPError", in, err)
			continue
		}
		if !strings.Contains(he.Message, want) {
			t.Errorf("%q: message %q lacks %q", in, he.Message, want)
		}
	}
}

func TestDecodeJSONBoundedOutsideServer(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", int(DefaultMaxBodyBytes)) + `"}`
	var v struct{ Name string }
	err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(big)), &v)
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
}
