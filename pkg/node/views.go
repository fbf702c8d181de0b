package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/consensus"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/wire"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// clusterView is the node as pkg/api's Cluster sees it.
type clusterView Node

var _ api.Cluster = (*clusterView)(nil)

func (v *clusterView) Members() []wire.Member {
	n := (*Node)(v)
	members := n.cluster.Members()
	out := make([]wire.Member, 0, len(members))
	for _, m := range members {
		wm := wire.Member{
			ID: m.ID, Region: m.Region, State: string(m.State), Voter: m.Voter,
			HTTPAddr: m.HTTPAddr, GRPCAddr: m.GRPCAddr, RaftAddr: m.RaftAddr, GossipAddr: m.GossipAddr,
			Version: m.Version, Self: m.ID == n.cfg.NodeID,
		}
		if rtt, ok := n.cluster.RTT(m.ID); ok {
			ms := float64(rtt.Microseconds()) / 1000
			wm.RTTMillis = &ms
		}
		out = append(out, wm)
	}
	return out
}

func (v *clusterView) Status() wire.Status {
	n := (*Node)(v)
	rs := n.raft.Status()
	live := 0
	for _, m := range n.cluster.Members() {
		if m.Live() {
			live++
		}
	}
	leaderID := rs.LeaderID
	return wire.Status{
		NodeID:    n.cfg.NodeID,
		Region:    n.cfg.Region,
		AccountID: n.AccountID(),
		Version:   n.cfg.Version,
		HTTPAddr:  n.advHTTP,
		Raft: wire.RaftStatus{
			State: rs.Role, LeaderID: leaderID, LeaderAddr: rs.LeaderAddr, Term: rs.Term,
			CommitIndex: rs.CommitIndex, AppliedIndex: rs.AppliedIndex, LastIndex: rs.LastIndex,
			Voters: rs.Voters, Nonvoters: rs.Nonvoters,
		},
		CatalogVersion: n.catalog.Version(),
		Members:        live,
		UptimeSeconds:  time.Since(n.started).Seconds(),
	}
}

func (v *clusterView) Ready() error {
	n := (*Node)(v)
	if err := n.Fault(); err != nil {
		return err
	}
	if id, _ := n.raft.Leader(); id == "" {
		return errors.New("no raft leader known")
	}
	if _, ok := n.catalog.DefaultAccount(); !ok {
		return errors.New("catalog not initialized yet")
	}
	if st := n.raft.Status(); st.Role == consensus.RoleNonvoter && st.Voters == 0 {
		return errors.New("not yet part of the raft configuration")
	}
	return nil
}

// identity is the node as pkg/api's Identity sees it: tokens and accounts
// from the replicated catalog.
type identity Node

var _ api.Identity = (*identity)(nil)

func (i *identity) VerifyToken(token string) (string, bool) {
	t, ok := i.catalog.TokenByHash(catalog.HashToken(token))
	return t.ID, ok
}

func (i *identity) Accounts() []wire.Account {
	var out []wire.Account
	for _, a := range i.catalog.Accounts() {
		out = append(out, wire.Account{
			ID: a.ID, Name: a.Name, Type: "standard", Settings: map[string]any{},
			CreatedOn: a.CreatedAt.UTC().Format(time.RFC3339),
		})
	}
	return out
}

// HasAccount reports whether the catalog holds account id.
func (i *identity) HasAccount(id string) bool {
	_, ok := i.catalog.Account(id)
	return ok
}

func tokenToWire(t catalog.Token) wire.Token {
	return wire.Token{ID: t.ID, Name: t.Name, Status: "active", IssuedOn: t.CreatedAt.UTC().Format(time.RFC3339)}
}

func (i *identity) Tokens() []wire.Token {
	var out []wire.Token
	for _, t := range i.catalog.Tokens() {
		out = append(out, tokenToWire(t))
	}
	return out
}

func (i *identity) CreateToken(ctx context.Context, name string) (wire.Token, error) {
	secret := randomHex(20)
	tok := catalog.Token{ID: randomHex(16), Name: name, Hash: catalog.HashToken(secret)}
	if _, err := (*Node)(i).proposeCatalog(ctx, catalog.Op{Type: catalog.OpCreateToken, Token: &tok}); err != nil {
		return wire.Token{}, fmt.Errorf("create token %q: %w", name, err)
	}
	// Propose returns once this node applied the op, so the catalog has it
	// with the timestamp every replica agreed on.
	if t, ok := i.catalog.TokenByHash(tok.Hash); ok {
		tok = t
	}
	w := tokenToWire(tok)
	w.Value = secret
	return w, nil
}

func (i *identity) RevokeToken(ctx context.Context, id string) error {
	if _, err := (*Node)(i).proposeCatalog(ctx, catalog.Op{Type: catalog.OpRevokeToken, Token: &catalog.Token{ID: id}}); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// backend is the node as the internal gRPC service sees it.
type backend Node

var _ router.Backend = (*backend)(nil)

func (b *backend) Info() *edgev1.InfoResponse {
	n := (*Node)(b)
	return &edgev1.InfoResponse{
		NodeId: n.cfg.NodeID, Region: n.cfg.Region, Version: n.cfg.Version,
		HttpAddr: n.advHTTP, GrpcAddr: n.advGRPC, RaftAddr: n.advRaft, GossipAddr: n.cluster.GossipAddr(),
	}
}

func (b *backend) Apply(ctx context.Context, cmd []byte) (uint64, []byte, error) {
	return b.proposer.ApplyLocal(ctx, cmd)
}

func (b *backend) ForwardHandler() http.Handler { return b.api.Handler() }

// Status is this node's status as the API reports it.
func (n *Node) Status() wire.Status { return (*clusterView)(n).Status() }

// Members is this node's view of the cluster as the API reports it.
func (n *Node) Members() []wire.Member { return (*clusterView)(n).Members() }

// Ready is nil once the node can serve (leader known, catalog initialized).
func (n *Node) Ready() error { return (*clusterView)(n).Ready() }
