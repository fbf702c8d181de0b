package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/router"
)

// ErrNoLeader means no Raft leader could be reached before the deadline
// (router.ErrNoLeader: the API answers 503 and clients retry).
var ErrNoLeader = router.ErrNoLeader

// Propose commits a command through Raft from any node (router.Proposer):
// on the leader directly, else through the leader's Apply RPC. It returns
// once this node has applied the entry too, so the caller reads its own
// write.
func (n *Node) Propose(ctx context.Context, cmd []byte) ([]byte, error) {
	return n.proposer.Propose(ctx, cmd)
}

// proposeCatalog commits one catalog operation and returns its result,
// with refused operations as errors wrapping catalog's sentinels.
func (n *Node) proposeCatalog(ctx context.Context, op catalog.Op) (catalog.Result, error) {
	return replication.ProposeCatalog(ctx, n.Propose, op)
}

// initLoop makes sure the catalog has its default account (and the
// bootstrap node's admin token), and that the configured account exists.
// Every step is idempotent, so racing nodes are harmless.
func (n *Node) initLoop(ctx context.Context) {
	for {
		err := n.ensureCatalog(ctx)
		if err == nil {
			return
		}
		n.log.Debug("catalog not initialized yet", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (n *Node) ensureCatalog(ctx context.Context) error {
	id, _ := n.raft.Leader()
	if id == "" {
		return ErrNoLeader
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, ok := n.catalog.DefaultAccount(); !ok {
		if !n.initializesCatalog() {
			// Joiners wait for the bootstrap node to initialize, which
			// also registers its admin token cluster-wide.
			return errors.New("waiting for the catalog to be initialized")
		}
		acct := n.cfg.AccountID
		if acct == "" {
			acct = randomHex(16)
		}
		op := catalog.Op{
			Type:      catalog.OpInit,
			Account:   &catalog.Account{ID: acct, Name: "Edgeplane"},
			Token:     bootstrapAdminToken(acct, n.adminTok),
			ClusterID: newClusterID(),
		}
		if _, err := n.proposeCatalog(ctx, op); err != nil {
			return err
		}
	}
	if n.cfg.AccountID != "" {
		if _, ok := n.catalog.Account(n.cfg.AccountID); !ok {
			_, err := n.proposeCatalog(ctx, catalog.Op{Type: catalog.OpCreateAccount, Account: &catalog.Account{ID: n.cfg.AccountID, Name: n.cfg.AccountID}})
			if err != nil && !errors.Is(err, catalog.ErrExists) {
				return err
			}
		}
	}
	return nil
}

// AccountID is the account this node serves by default.
func (n *Node) AccountID() string {
	if n.cfg.AccountID != "" {
		return n.cfg.AccountID
	}
	a, _ := n.catalog.DefaultAccount()
	return a.ID
}

// CreateResource registers a resource of kind named name in the catalog,
// under account (the default account when empty), from any node.
func (n *Node) CreateResource(ctx context.Context, kind catalog.Kind, account, name string) (catalog.Resource, error) {
	return n.createResource(ctx, catalog.Resource{Kind: kind, AccountID: account, Name: name})
}

// createResource registers r with a new random id.
func (n *Node) createResource(ctx context.Context, r catalog.Resource) (catalog.Resource, error) {
	if r.AccountID == "" {
		r.AccountID = n.AccountID()
	}
	r.ID = randomHex(16)
	res, err := n.proposeCatalog(ctx, catalog.Op{Type: catalog.OpCreateResource, Resource: &r, Limit: r.MaxPerAccount})
	if err != nil {
		return catalog.Resource{}, fmt.Errorf("create %s %q: %w", r.Kind, r.Name, err)
	}
	return *res.Resource, nil
}
