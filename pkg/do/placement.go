package do

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/do/lease"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// Locator says where an object lives now.
type Locator interface {
	// Owner resolves where obj lives now: the owner's node id, and whether
	// it is this node and this node may serve it now.
	Owner(ctx context.Context, ns catalog.Resource, objID string) (owner string, here bool, err error)
}

// ErrNoOwner means no node may own the object now (no node registered, or
// every eligible node is dead): 503, retry.
var ErrNoOwner = fmt.Errorf("no node can own this durable object now: %w", api.ErrUnavailable)

// Placement is where one object lives, as this node sees it.
type Placement struct {
	// Object is the full object key, "nsID/objectID".
	Object string
	// Order is the object's rendezvous order over the eligible nodes.
	Order []string
	// Owner is the first node of Order whose liveness record is not dead.
	Owner string
	// Replicas is the replica set: the first R nodes of Order (with the
	// owner in place of the R-th when the R first are all dead).
	Replicas []string
}

// objectKey is the full key of an object in objstore.
func objectKey(nsID, objID string) string { return nsID + "/" + objID }

// Place computes the placement of objID in namespace ns from the liveness
// table: the universe is every node that registered and was not removed
// from the cluster for good (see goneForGood), alive or not, so replica
// sets stay the same across failures; a location hint restricts it to the
// nodes of that region when it has any.
func (m *Module) Place(ns catalog.Resource, objID string) (Placement, error) {
	recs := m.table.Records()
	hint := ns.Attrs[attrLocationHint]
	nodes := make([]string, 0, len(recs))
	dead := make(map[string]bool, len(recs))
	for _, r := range recs {
		if hint == "" || r.Region == hint {
			nodes = append(nodes, r.Node)
		}
		dead[r.Node] = r.Dead
	}
	if len(nodes) == 0 { // the hinted region has no nodes: every node
		for _, r := range recs {
			nodes = append(nodes, r.Node)
		}
	}
	p := Placement{Object: objectKey(ns.ID, objID)}
	if len(nodes) == 0 {
		return p, ErrNoOwner
	}
	p.Order = router.Rendezvous(p.Object, nodes)
	for _, n := range p.Order {
		if !dead[n] {
			p.Owner = n
			break
		}
	}
	if p.Owner == "" {
		return p, ErrNoOwner
	}
	r := min(m.opts.Replicas, len(p.Order))
	p.Replicas = slices.Clone(p.Order[:r])
	if !slices.Contains(p.Replicas, p.Owner) {
		p.Replicas[r-1] = p.Owner
	}
	return p, nil
}

// Owner implements Locator.
func (m *Module) Owner(_ context.Context, ns catalog.Resource, objID string) (string, bool, error) {
	p, err := m.Place(ns, objID)
	if err != nil {
		return "", false, err
	}
	return p.Owner, p.Owner == m.deps.NodeID && m.lease.Status().Valid(m.opts.Now()), nil
}

// Where is an object's placement as GET …/where answers it.
type Where struct {
	ID             string   `json:"id"`
	Owner          string   `json:"owner"`
	Replicas       []string `json:"replicas"`
	Epoch          uint64   `json:"epoch"`
	LeaseExpiresAt string   `json:"lease_expires_at"`
	ServedBy       string   `json:"served_by"`
}

// where describes an object's placement with the owner's liveness record.
func (m *Module) where(ns catalog.Resource, objID string) (Where, error) {
	p, err := m.Place(ns, objID)
	if err != nil {
		return Where{}, err
	}
	w := Where{ID: objID, Owner: p.Owner, Replicas: p.Replicas, ServedBy: m.deps.NodeID}
	if rec, ok := m.table.Get(p.Owner); ok {
		w.Epoch = rec.Epoch
		w.LeaseExpiresAt = time.UnixMilli(rec.Expiration).UTC().Format(time.RFC3339Nano)
	}
	return w, nil
}

// Lease is this node's liveness lease as it acts on it.
func (m *Module) Lease() lease.Status { return m.lease.Status() }

// LeasePeriod is the liveness lease period in force.
func (m *Module) LeasePeriod() time.Duration { return m.lease.Period() }

// goneForGood reports, on the Raft leader only (one proposer is enough),
// that node left the cluster for good: it is not in the Raft configuration
// (removed by autopilot after the dead-server grace, or by an operator; it
// can come back only with an empty data directory) and not live in gossip.
// Its lease record is then forgotten and it drops out of every object's
// placement; while the record stays, it keeps a seat in replica sets, and a
// new object whose set includes it cannot open.
func (m *Module) goneForGood(node string) bool {
	rs, ok := m.deps.Raft.(service.RaftServers)
	if !ok || m.deps.Members == nil || !m.deps.Raft.IsLeader() {
		return false
	}
	ids, err := rs.ServerIDs()
	if err != nil || len(ids) == 0 || slices.Contains(ids, node) {
		return false
	}
	if mem, ok := m.deps.Members.Member(node); ok && mem.Live() {
		return false
	}
	return true
}
