package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// ServerConfig is for internal listeners (gRPC, Raft): TLS 1.3, and a
// client certificate that verifies against the current CA bundle and
// carries an edgeplane:// identity (node or client; RequireMember and the
// Raft stream layer narrow that to nodes). crypto/tls verifies the chain,
// so PeerIdentity works on the accepted connections.
func (r *Reloader) ServerConfig() *tls.Config {
	return r.serverConfig(false)
}

// serverConfig builds the internal server config; nodesOnly refuses client
// (operator) identities in the handshake.
func (r *Reloader) serverConfig(nodesOnly bool) *tls.Config {
	// Session resumption is off: a resumed session would skip checking the
	// client against a CA bundle reloaded since.
	base := &tls.Config{MinVersion: tls.VersionTLS13, SessionTicketsDisabled: true}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		m := r.cur.Load()
		return &tls.Config{
			MinVersion:             tls.VersionTLS13,
			SessionTicketsDisabled: true,
			Certificates:           []tls.Certificate{*m.cert},
			ClientAuth:             tls.RequireAndVerifyClientCert,
			ClientCAs:              m.pool,
			// NextProtos of the outer config (gRPC adds h2 to it) are not
			// inherited: gRPC's credentials add h2 to this one themselves.
			VerifyConnection: func(cs tls.ConnectionState) error {
				id, err := verifiedIdentity(cs)
				if err != nil {
					return err
				}
				if nodesOnly && !id.IsNode() {
					return fmt.Errorf("%s is not a node", id)
				}
				return nil
			},
		}, nil
	}
	return base
}

// ClientConfig is for dialing another node: TLS 1.3, the current
// certificate offered as client certificate, and the server's certificate
// verified against the current CA bundle. When expectNodeID is not empty
// the server must be that node; otherwise any node of the cluster will do.
// Host names are not checked: node identity is the URI SAN.
func (r *Reloader) ClientConfig(expectNodeID string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return r.cur.Load().cert, nil
		},
		// Verification is done below against the CA bundle current at
		// handshake time and by URI SAN identity; the built-in verifier
		// would pin RootCAs at build time and check host names.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := r.verifyPeer(cs.PeerCertificates, x509.ExtKeyUsageServerAuth)
			if err != nil {
				return err
			}
			if !id.IsNode() {
				return fmt.Errorf("server %s is not a node", id)
			}
			if expectNodeID != "" && id.Name != expectNodeID {
				return fmt.Errorf("%w: want node %q, server is %s", errWrongPeer, expectNodeID, id)
			}
			return nil
		},
	}
}

// HTTPServerConfig is for the public HTTPS API: the current certificate,
// TLS 1.2 or later, no client certificate asked for (API clients
// authenticate with bearer tokens). Clients check the host name, so the
// node certificate needs IP/DNS SANs for the names they use.
func (r *Reloader) HTTPServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cur.Load().cert, nil
		},
	}
}
