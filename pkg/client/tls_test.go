package client

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestWithCACertTrustsTheGivenCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true,"errors":[],"messages":[],"result":{"status":"ok"}}`))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plain, err := New([]string{srv.URL}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Do(ctx, http.MethodGet, "/healthz", nil, nil); err == nil {
		t.Fatal("system roots trusted a test CA")
	}
	for name, opts := range map[string][]Option{
		"alone":            {WithCACert(ca)},
		"with http client": {WithHTTPClient(&http.Client{}), WithCACert(ca)},
	} {
		c, err := New([]string{srv.URL}, "t", opts...)
		if err != nil {
			t.Fatal(err)
		}
		if name == "alone" && c.hc.Timeout != DefaultTimeout {
			t.Errorf("%s: no timeout", name)
		}
		if _, err := c.Do(ctx, http.MethodGet, "/healthz", nil, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New([]string{srv.URL}, "t", WithCACert(filepath.Join(t.TempDir(), "missing"))); err == nil {
		t.Error("missing CA file accepted")
	}
}
