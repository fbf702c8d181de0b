package main

import (
	"crypto/tls"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// tlsConfig is the client TLS configuration of --ca-cert: trust the
// cluster CA for https:// endpoints. Nil without --ca-cert (system roots).
func (a *app) tlsConfig() (*tls.Config, error) {
	if a.caCert == "" {
		return nil, nil
	}
	return client.CATLSConfig(a.caCert)
}

// trustCA makes hc's transport trust --ca-cert, if given.
func (a *app) trustCA(hc *http.Client) error {
	cfg, err := a.tlsConfig()
	if err != nil || cfg == nil {
		return err
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok || tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
		hc.Transport = tr
	}
	tr.TLSClientConfig = cfg
	return nil
}
