package client

import (
	"slices"
	"testing"
)

func TestNormalizeEndpoint(t *testing.T) {
	good := map[string]string{
		"127.0.0.1:8787":          "http://127.0.0.1:8787",
		"http://127.0.0.1:8787/":  "http://127.0.0.1:8787",
		" https://edge.example ":  "https://edge.example",
		"http://10.0.0.1:80/base": "http://10.0.0.1:80/base",
	}
	for in, want := range good {
		got, err := NormalizeEndpoint(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEndpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ftp://x:1", "http://", "http://h:1/?a=b", "http://h:1/#f"} {
		if got, err := NormalizeEndpoint(in); err == nil {
			t.Errorf("NormalizeEndpoint(%q) = %q, want an error", in, got)
		}
	}
}

func TestSplitEndpoints(t *testing.T) {
	got := SplitEndpoints(" a:1, ,b:2,")
	if want := []string{"a:1", "b:2"}; !slices.Equal(got, want) {
		t.Fatalf("SplitEndpoints = %q, want %q", got, want)
	}
}

func TestNewRejectsEmptyAndBadEndpoints(t *testing.T) {
	if _, err := New(nil, ""); err == nil {
		t.Fatal("New(nil) succeeded")
	}
	if _, err := New([]string{"ftp://x:1"}, ""); err == nil {
		t.Fatal("New with an ftp endpoint succeeded")
	}
}
