package consensus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// RegisterGRPC serves the Consensus service (proto/edge/v1/consensus.proto)
// on the node's gRPC server: peers read this server's Raft stats through
// it and hand member removals to the leader.
func (n *Node) RegisterGRPC(s *grpc.Server) {
	edgev1.RegisterConsensusServer(s, &grpcServer{n: n})
}

type grpcServer struct {
	edgev1.UnimplementedConsensusServer
	n *Node
}

func (g *grpcServer) RaftStats(context.Context, *edgev1.RaftStatsRequest) (*edgev1.RaftStatsResponse, error) {
	st := g.n.localStats()
	leader, _ := g.n.Leader()
	return &edgev1.RaftStatsResponse{
		NodeId:          g.n.cfg.NodeID,
		LastContactNs:   int64(st.lastContact),
		LastTerm:        st.lastTerm,
		LastIndex:       st.lastIndex,
		HasState:        st.hasState,
		BootstrapExpect: int32(g.n.cfg.BootstrapExpect),
		LeaderId:        leader,
	}, nil
}

func (g *grpcServer) RemoveServer(ctx context.Context, req *edgev1.RemoveServerRequest) (*edgev1.RemoveServerResponse, error) {
	res, err := g.n.removeLocal(req.GetId(), req.GetForce())
	switch {
	case err == nil:
		return &edgev1.RemoveServerResponse{Index: res.Index, WasVoter: res.WasVoter}, nil
	case errors.Is(err, ErrNotLeader):
		return nil, status.Error(codes.Aborted, err.Error())
	case errors.Is(err, ErrUnknownServer):
		return nil, status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ErrRefused):
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	default:
		return nil, status.Error(codes.Unavailable, err.Error())
	}
}

// serverStats is one server's own view of Raft.
type serverStats struct {
	lastContact time.Duration // -1: never heard from a leader
	lastTerm    uint64
	lastIndex   uint64
	hasState    bool
}

// localStats reads this server's Raft stats.
func (n *Node) localStats() serverStats {
	stats := n.raft.Stats()
	st := serverStats{lastContact: -1}
	st.lastTerm, _ = strconv.ParseUint(stats["last_log_term"], 10, 64)
	st.lastIndex, _ = strconv.ParseUint(stats["last_log_index"], 10, 64)
	if snapIdx, _ := strconv.ParseUint(stats["last_snapshot_index"], 10, 64); snapIdx > st.lastIndex {
		st.lastIndex = snapIdx
		st.lastTerm, _ = strconv.ParseUint(stats["last_snapshot_term"], 10, 64)
	}
	term := n.raft.CurrentTerm()
	st.hasState = st.lastIndex > 0 || term > 0
	switch {
	case n.raft.State() == raft.Leader:
		st.lastContact = 0
	default:
		if lc := n.raft.LastContact(); !lc.IsZero() {
			st.lastContact = time.Since(lc)
		}
	}
	return st
}

// peers holds gRPC client connections to other servers, by address: the
// node's pool's when it gives one (shared), else its own plain ones.
type peers struct {
	shared func(addr string) (grpc.ClientConnInterface, error)
	dial   func(ctx context.Context, addr string) (net.Conn, error)

	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

func newPeers(shared func(addr string) (grpc.ClientConnInterface, error)) *peers {
	d := &net.Dialer{}
	dial := func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	return &peers{shared: shared, dial: dial, conns: make(map[string]*grpc.ClientConn)}
}

func (p *peers) client(addr string) (edgev1.ConsensusClient, error) {
	if addr == "" {
		return nil, errors.New("peer has no grpc address")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("consensus peers closed")
	}
	if p.shared != nil {
		conn, err := p.shared(addr)
		if err != nil {
			return nil, fmt.Errorf("grpc connection to %s: %w", addr, err)
		}
		return edgev1.NewConsensusClient(conn), nil
	}
	conn, ok := p.conns[addr]
	if !ok {
		var err error
		conn, err = grpc.NewClient("passthrough:///"+addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(p.dial),
			grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: 2 * time.Second}),
		)
		if err != nil {
			return nil, fmt.Errorf("grpc client for %s: %w", addr, err)
		}
		p.conns[addr] = conn
	}
	return edgev1.NewConsensusClient(conn), nil
}

func (p *peers) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, c := range p.conns {
		_ = c.Close()
		delete(p.conns, addr)
	}
}

// fetchStats asks the server at addr for its Raft stats.
func (p *peers) fetchStats(ctx context.Context, addr string) (*edgev1.RaftStatsResponse, error) {
	c, err := p.client(addr)
	if err != nil {
		return nil, err
	}
	return c.RaftStats(ctx, &edgev1.RaftStatsRequest{})
}
