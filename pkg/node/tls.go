package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// TLSConfig turns on mutual TLS between members (gRPC and Raft) and,
// unless PlainHTTP, HTTPS on the public API. The three files are those
// tlsutil.NodeFiles names: the cluster CA bundle, this node's certificate
// (naming NodeID) and its key. All empty: plaintext everywhere.
type TLSConfig struct {
	CAFile   string
	CertFile string
	KeyFile  string
	// PlainHTTP keeps the public API on plain HTTP (TLS ends at a proxy in
	// front of the node) while gRPC and Raft use mutual TLS.
	PlainHTTP bool
}

// Enabled reports whether any TLS file is configured.
func (c TLSConfig) Enabled() bool { return c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" }

// validate checks that the files come as a set.
func (c TLSConfig) validate() error {
	if c.Enabled() && (c.CAFile == "" || c.CertFile == "" || c.KeyFile == "") {
		return errors.New("tls: the CA, certificate and key files go together: give all three")
	}
	return nil
}

// loadTLS reads the node's TLS material, when configured, and checks that
// the certificate names this node.
func (n *Node) loadTLS() error {
	c := n.cfg.TLS
	if err := c.validate(); err != nil {
		return err
	}
	if !c.Enabled() {
		return nil
	}
	rel, err := tlsutil.NewReloader(c.CAFile, c.CertFile, c.KeyFile)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	if id := rel.Identity(); id != tlsutil.NodeIdentity(n.cfg.NodeID) {
		return fmt.Errorf("tls: certificate %s names %s, but this node is %q", c.CertFile, id, n.cfg.NodeID)
	}
	n.tls = rel
	n.log.Info("mutual TLS between members on", "cert_serial", rel.Leaf().SerialNumber.Text(16),
		"not_after", rel.NotAfter(), "https_api", !c.PlainHTTP)
	return nil
}

// TLSEnabled reports whether members talk mutual TLS.
func (n *Node) TLSEnabled() bool { return n.tls != nil }

// HTTPScheme is "https" when the public API serves TLS, else "http".
func (n *Node) HTTPScheme() string {
	if n.tls != nil && !n.cfg.TLS.PlainHTTP {
		return "https"
	}
	return "http"
}

// ReloadTLS re-reads the CA bundle, certificate and key (edged calls it on
// SIGHUP). New handshakes use the new material; on error the material in
// use is kept. It returns the serial of the certificate now in use.
func (n *Node) ReloadTLS() (serial string, err error) {
	if n.tls == nil {
		return "", errors.New("tls is not configured")
	}
	if err := n.tls.Reload(); err != nil {
		return n.tls.Leaf().SerialNumber.Text(16), err
	}
	return n.tls.Leaf().SerialNumber.Text(16), nil
}

// isMember reports whether id is a live gossip member: the gRPC
// authorization of mutual TLS.
func (n *Node) isMember(id string) bool {
	if id == n.cfg.NodeID {
		return true
	}
	if n.cluster == nil {
		return false
	}
	m, ok := n.cluster.Member(id)
	return ok && m.Live()
}

// memberByAddr returns the id of the member advertising addr as its gRPC
// (grpc true) or Raft address.
func (n *Node) memberByAddr(addr string, grpcAddr bool) (string, bool) {
	if n.cluster == nil {
		return "", false
	}
	for _, m := range n.cluster.Members() {
		a := m.RaftAddr
		if grpcAddr {
			a = m.GRPCAddr
		}
		if a == addr {
			return m.ID, true
		}
	}
	return "", false
}

// grpcServerOptions are router.ServerOptions plus, with TLS, the server
// credentials and the member check.
func (n *Node) grpcServerOptions() []grpc.ServerOption {
	opts := router.ServerOptions()
	if n.tls == nil {
		return opts
	}
	opts = append(opts, grpc.Creds(n.tls.ServerCredentials()))
	return append(opts, tlsutil.RequireMember(n.isMember)...)
}

// poolCredentials are the Pool's client credentials with TLS (nil:
// plaintext). The server must be the member advertising the address when
// gossip knows it; otherwise any node certificate of the cluster will do.
func (n *Node) poolCredentials() func(addr string) credentials.TransportCredentials {
	if n.tls == nil {
		return nil
	}
	return func(addr string) credentials.TransportCredentials {
		id, _ := n.memberByAddr(addr, true)
		return n.tls.ClientCredentials(id)
	}
}

// raftStreamLayer wraps the fault-injecting stream layer in mutual TLS
// when configured: the dialer checks the node id gossip gives the address,
// and accepted connections must come from live members, as RequireMember
// asks of gRPC callers (a certificate from the cluster CA is not enough
// once its node has left, or was never in).
func (n *Node) raftStreamLayer() func(net.Listener, net.Addr) raft.StreamLayer {
	if n.tls == nil {
		return n.net.RaftStreamLayer
	}
	resolve := func(addr raft.ServerAddress) (string, bool) { return n.memberByAddr(string(addr), false) }
	admit := func(id tlsutil.Identity) error {
		if !id.IsNode() || !n.isMember(id.Name) {
			return fmt.Errorf("raft: %s is not a member of this cluster", id)
		}
		return nil
	}
	return tlsutil.RaftStreamLayerFunc(n.tls, resolve, admit, n.net.RaftStreamLayer)
}

// httpListener is the API listener, behind TLS when configured.
func (n *Node) httpListener() net.Listener {
	if n.tls == nil || n.cfg.TLS.PlainHTTP {
		return n.httpLn
	}
	return tls.NewListener(n.httpLn, n.tls.HTTPServerConfig())
}
