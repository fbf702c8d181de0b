package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
)

// WithCACert makes the client trust the CA certificates (PEM) in file for
// https:// endpoints, instead of the system roots: the cluster CA of an
// edged serving its API with its node certificate. New fails when the file
// cannot be read or holds no certificate.
func WithCACert(file string) Option {
	return func(s *settings) { s.caFile = file }
}

// CATLSConfig is a client TLS configuration trusting only the CA
// certificates (PEM) in file.
func CATLSConfig(file string) (*tls.Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate found", file)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// withCA returns hc (nil: a new client) with a transport trusting file's
// CA certificates; hc itself is not modified.
func withCA(hc *http.Client, file string) (*http.Client, error) {
	cfg, err := CATLSConfig(file)
	if err != nil {
		return nil, err
	}
	var tr *http.Transport
	if hc != nil {
		if t, ok := hc.Transport.(*http.Transport); ok && t != nil {
			tr = t.Clone()
		} else if hc.Transport != nil {
			return nil, fmt.Errorf("CA certificate: the HTTP client's transport is %T, not *http.Transport", hc.Transport)
		}
	}
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.TLSClientConfig = cfg
	out := &http.Client{}
	if hc != nil {
		*out = *hc
	}
	out.Transport = tr
	return out, nil
}
