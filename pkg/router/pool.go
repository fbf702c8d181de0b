package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// Dialer opens a network connection to addr. Tests plug a fault-injecting
// network in here.
type Dialer func(ctx context.Context, addr string) (net.Conn, error)

// PoolConfig configures a Pool. The zero value is usable: Defaults fills it.
type PoolConfig struct {
	// Dialer opens connections; nil means a plain TCP dial.
	Dialer Dialer
	// KeepaliveTime is how long a connection may be idle before the client
	// pings it. Not below 5 s, which ServerOptions permits.
	KeepaliveTime time.Duration
	// KeepaliveTimeout is how long a ping may go unanswered before the
	// connection is considered dead.
	KeepaliveTimeout time.Duration
	// MaxBackoff caps the delay between reconnection attempts to a node that
	// went away, so a node that comes back is reached again quickly.
	MaxBackoff time.Duration
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
	// Credentials returns the transport credentials for a new connection
	// to addr (mutual TLS between members: the node passes the expected
	// node id when it knows who listens on addr). Nil means plaintext.
	Credentials func(addr string) credentials.TransportCredentials
}

// Defaults returns c with zero fields set to their defaults.
func (c PoolConfig) Defaults() PoolConfig {
	if c.KeepaliveTime == 0 {
		c.KeepaliveTime = DefaultKeepaliveTime
	}
	if c.KeepaliveTimeout == 0 {
		c.KeepaliveTimeout = DefaultKeepaliveTimeout
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a setting that cannot work.
func (c PoolConfig) Validate() error {
	if c.KeepaliveTime < minKeepalivePermitted {
		return fmt.Errorf("pool config: keepalive time %v below the %v servers permit", c.KeepaliveTime, minKeepalivePermitted)
	}
	if c.KeepaliveTimeout <= 0 {
		return fmt.Errorf("pool config: keepalive timeout must be positive, got %v", c.KeepaliveTimeout)
	}
	if c.MaxBackoff <= 0 {
		return fmt.Errorf("pool config: max backoff must be positive, got %v", c.MaxBackoff)
	}
	return nil
}

// Pool holds one gRPC client connection per node address, created lazily on
// first use and shared by every caller. Connections reconnect by themselves;
// Drop discards one (for a node that left), Close discards all. Connections
// use PoolConfig.Credentials, or plaintext without them.
type Pool struct {
	cfg PoolConfig
	log *slog.Logger

	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

// NewPool returns an empty Pool, or an error if cfg (after Defaults) is
// invalid.
func NewPool(cfg PoolConfig) (*Pool, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Pool{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "router"),
		conns: make(map[string]*grpc.ClientConn),
	}, nil
}

// Client returns a Node client for the node at addr (its gRPC address),
// creating the connection if there is none yet. Creating it does not dial:
// an unreachable node shows up as an error of the first call.
func (p *Pool) Client(addr string) (edgev1.NodeClient, error) {
	conn, err := p.conn(addr)
	if err != nil {
		return nil, err
	}
	return edgev1.NewNodeClient(conn), nil
}

// Drop closes and forgets the connection to addr, if any.
func (p *Pool) Drop(addr string) {
	p.mu.Lock()
	conn, ok := p.conns[addr]
	delete(p.conns, addr)
	p.mu.Unlock()
	if ok {
		p.closeConn(addr, conn)
	}
}

// Len is the number of connections the pool holds.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close closes every connection; later calls to Client fail with
// ErrPoolClosed. Close is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[string]*grpc.ClientConn)
	p.closed = true
	p.mu.Unlock()
	var errs []error
	for addr, conn := range conns {
		if err := conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection to %s: %w", addr, err))
		}
	}
	return errors.Join(errs...)
}

func (p *Pool) conn(addr string) (*grpc.ClientConn, error) {
	if addr == "" {
		return nil, fmt.Errorf("router pool: empty address: %w", ErrUnreachable)
	}
	p.mu.Lock()
	conn, ok := p.conns[addr]
	closed := p.closed
	p.mu.Unlock()
	switch {
	case closed:
		return nil, ErrPoolClosed
	case ok:
		retryNow(conn) // outside the lock: it may wait a moment
		return conn, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	if conn, ok := p.conns[addr]; ok { // made meanwhile by another caller
		return conn, nil
	}
	// passthrough hands addr to the dialer verbatim: no DNS, and names of a
	// test network reach the test dialer unchanged.
	conn, err := grpc.NewClient("passthrough:///"+addr, p.dialOptions(addr)...)
	if err != nil {
		return nil, fmt.Errorf("router pool: client for %s: %w", addr, err)
	}
	p.conns[addr] = conn
	p.log.Debug("grpc connection created", "addr", addr)
	return conn, nil
}

// retryWait bounds how long retryNow waits for a reset connection to leave
// TRANSIENT_FAILURE: the state changes as soon as the new attempt starts.
const retryWait = 200 * time.Millisecond

// retryNow makes a connection that last failed (a partition that healed, a
// restart) try again now rather than after the rest of its reconnect
// backoff, and waits until the attempt has started: a call made while the
// connection is still in TRANSIENT_FAILURE fails at once, one made while it
// connects waits for the outcome. A node still down fails the new attempt
// as quickly as before.
func retryNow(conn *grpc.ClientConn) {
	if conn.GetState() != connectivity.TransientFailure {
		return
	}
	conn.ResetConnectBackoff()
	ctx, cancel := context.WithTimeout(context.Background(), retryWait)
	defer cancel()
	conn.WaitForStateChange(ctx, connectivity.TransientFailure)
}

// readyWait bounds how long readyConn waits for a connection to be made.
const readyWait = 2 * time.Second

// readyConn returns the connection to addr once it is READY, connecting it
// first if it is idle. A connection that cannot be made (the attempt fails,
// or it takes longer than readyWait or ctx) gives an error matching
// ErrUnreachable: a call that needs to know whether its request was sent
// (Apply) learns it was not.
func (p *Pool) readyConn(ctx context.Context, addr string) (*grpc.ClientConn, error) {
	conn, err := p.conn(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	for {
		state := conn.GetState()
		switch state {
		case connectivity.Ready:
			return conn, nil
		case connectivity.Idle:
			conn.Connect()
		case connectivity.TransientFailure, connectivity.Shutdown:
			return nil, fmt.Errorf("router pool: connection to %s is %s: %w", addr, state, ErrUnreachable)
		}
		if !conn.WaitForStateChange(ctx, state) {
			return nil, fmt.Errorf("router pool: no connection to %s within %s (%s): %w", addr, readyWait, state, ErrUnreachable)
		}
	}
}

func (p *Pool) dialOptions(addr string) []grpc.DialOption {
	bo := backoff.DefaultConfig
	bo.MaxDelay = p.cfg.MaxBackoff
	// gRPC waits BaseDelay before the first retry without applying MaxDelay.
	bo.BaseDelay = min(bo.BaseDelay, p.cfg.MaxBackoff)
	creds := insecure.NewCredentials()
	if p.cfg.Credentials != nil {
		creds = p.cfg.Credentials(addr)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                p.cfg.KeepaliveTime,
			Timeout:             p.cfg.KeepaliveTimeout,
			PermitWithoutStream: true,
		}),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes),
			grpc.MaxCallSendMsgSize(MaxMessageBytes),
		),
	}
	if p.cfg.Dialer != nil {
		opts = append(opts, grpc.WithContextDialer(p.cfg.Dialer))
	}
	return opts
}

func (p *Pool) closeConn(addr string, conn *grpc.ClientConn) {
	if err := conn.Close(); err != nil {
		p.log.Debug("grpc connection close", "addr", addr, "err", err)
	}
}

// Conn returns the shared client connection to addr, for gRPC services
// other than Node (KV replication), so they use the same dialer.
func (p *Pool) Conn(addr string) (grpc.ClientConnInterface, error) { return p.conn(addr) }
