package tlsutil

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// RaftStreamLayer is a raft.StreamLayer speaking mutual TLS over another
// stream layer (plain TCP, or a fault-injecting one in tests). Both ends
// must hold node certificates from the cluster CA.
type RaftStreamLayer struct {
	inner   raft.StreamLayer
	r       *Reloader
	resolve func(raft.ServerAddress) (string, bool)
	server  *tls.Config
	// handshakeTimeout bounds the handshake of accepted connections.
	handshakeTimeout time.Duration
	// admit, when set, decides on the peer of an accepted connection once
	// its certificate checked out.
	admit func(Identity) error
}

// DefaultRaftHandshakeTimeout bounds the TLS handshake of a connection
// accepted by a RaftStreamLayer: a peer that connects and stays silent is
// dropped after it.
const DefaultRaftHandshakeTimeout = 10 * time.Second

var _ raft.StreamLayer = (*RaftStreamLayer)(nil)

// NewRaftStreamLayer wraps inner. Accepted connections must present a node
// certificate from the current CA bundle; the handshake runs on the first
// Read or Write, so a slow peer does not hold up Accept. Dial completes the
// handshake within the timeout and checks the server is a node of the
// cluster and, when resolve knows which node address belongs to, that
// node. resolve may be nil or answer false for unknown addresses: then
// only the CA is checked. admit, when not nil, also decides on the peer of
// each accepted connection (a node that left the cluster keeps a valid
// certificate): an error closes the connection.
func NewRaftStreamLayer(inner raft.StreamLayer, r *Reloader, resolve func(addr raft.ServerAddress) (nodeID string, ok bool),
	admit func(Identity) error) *RaftStreamLayer {
	return &RaftStreamLayer{inner: inner, r: r, resolve: resolve, server: r.serverConfig(true),
		handshakeTimeout: DefaultRaftHandshakeTimeout, admit: admit}
}

// RaftStreamLayerFunc adapts NewRaftStreamLayer to the shape of
// consensus.Config.StreamLayer: wrap builds the inner layer from the
// listener (nil wrap means plain TCP).
func RaftStreamLayerFunc(r *Reloader, resolve func(raft.ServerAddress) (string, bool), admit func(Identity) error,
	wrap func(ln net.Listener, advertise net.Addr) raft.StreamLayer) func(net.Listener, net.Addr) raft.StreamLayer {
	return func(ln net.Listener, advertise net.Addr) raft.StreamLayer {
		var inner raft.StreamLayer
		if wrap != nil {
			inner = wrap(ln, advertise)
		} else {
			inner = &tcpLayer{Listener: ln, advertise: advertise}
		}
		return NewRaftStreamLayer(inner, r, resolve, admit)
	}
}

// Accept waits for the next connection and returns it as the server side
// of a TLS connection. The handshake runs on its first Read or Write and
// must finish within DefaultRaftHandshakeTimeout; a failed handshake
// closes the connection.
func (l *RaftStreamLayer) Accept() (net.Conn, error) {
	c, err := l.inner.Accept()
	if err != nil {
		return nil, err
	}
	return &serverConn{Conn: tls.Server(c, l.server), timeout: l.handshakeTimeout, admit: l.admit}, nil
}

// serverConn is an accepted connection whose handshake is bounded in time
// and whose peer passes admit.
type serverConn struct {
	*tls.Conn
	timeout time.Duration
	admit   func(Identity) error
	once    sync.Once
	err     error
}

func (c *serverConn) handshake() error {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		c.err = c.Conn.HandshakeContext(ctx)
		if c.err == nil && c.admit != nil {
			var id Identity
			if id, c.err = PeerIdentity(c.Conn.ConnectionState()); c.err == nil {
				c.err = c.admit(id)
			}
		}
		if c.err != nil {
			_ = c.Conn.Close()
		}
	})
	return c.err
}

func (c *serverConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *serverConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// Close closes the inner layer.
func (l *RaftStreamLayer) Close() error { return l.inner.Close() }

// Addr is the inner layer's address.
func (l *RaftStreamLayer) Addr() net.Addr { return l.inner.Addr() }

// Dial connects to address and completes a mutual TLS handshake within
// timeout.
func (l *RaftStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	raw, err := l.inner.Dial(address, timeout)
	if err != nil {
		return nil, err
	}
	var expect string
	if l.resolve != nil {
		if id, ok := l.resolve(address); ok {
			expect = id
		}
	}
	c := tls.Client(raw, l.r.ClientConfig(expect))
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("raft tls handshake with %s: %w", address, err)
	}
	return c, nil
}

// tcpLayer is a plain TCP stream layer.
type tcpLayer struct {
	net.Listener
	advertise net.Addr
}

func (t *tcpLayer) Addr() net.Addr {
	if t.advertise != nil {
		return t.advertise
	}
	return t.Listener.Addr()
}

func (t *tcpLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(address), timeout)
}
