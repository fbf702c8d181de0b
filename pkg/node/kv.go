package node

import (
	"context"
	"fmt"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/prometheus/client_golang/prometheus"
)

// startKV opens the KV store and builds the service and its replicator.
// It runs before the gRPC and HTTP servers start serving, so both find KV
// ready.
func (n *Node) startKV() error {
	store, err := kv.OpenStore(kv.StoreConfig{Dir: n.layout.KVDir(), Logger: n.log, Registerer: n.reg, OnFatal: n.fatal})
	if err != nil {
		return fmt.Errorf("kv store: %w", err)
	}
	n.kvStore = store
	if err := n.reg.Register(newKVKeysCollector(store)); err != nil {
		return fmt.Errorf("kv metrics: %w", err)
	}
	n.clock = hlc.NewClock(nil)
	repl, err := replication.NewKVReplicator(replication.KVReplicatorConfig{
		NodeID:           n.cfg.NodeID,
		Local:            kvLocal{n: n},
		Peers:            n.kvPeers,
		Pool:             n.pool,
		AntiEntropyEvery: n.cfg.Timing.AntiEntropyInterval,
		RegionOf:         n.regionOfNode,
		Registerer:       n.reg,
		Logger:           n.log,
	})
	if err != nil {
		return fmt.Errorf("kv replication: %w", err)
	}
	n.kvRepl = repl
	svc, err := kv.NewService(kv.ServiceConfig{
		Storage: store, Clock: n.clock, NodeID: n.cfg.NodeID, Publisher: repl,
		Registerer: n.reg, Logger: n.log,
	})
	if err != nil {
		return fmt.Errorf("kv service: %w", err)
	}
	n.kv = svc
	return nil
}

// kvLocal adapts the node's KV to what replication needs.
type kvLocal struct{ n *Node }

// ApplyRemote applies replicated entries, except those of namespaces the
// catalog deleted: anti-entropy from a node that has not dropped them yet
// must not bring their data back.
func (l kvLocal) ApplyRemote(entries []kv.Entry) ([]bool, error) {
	won := make([]bool, len(entries))
	keep := entries[:0:0]
	idx := make([]int, 0, len(entries))
	for i, e := range entries {
		if !l.n.kvNamespaceDeleted(e.Namespace) {
			keep = append(keep, e)
			idx = append(idx, i)
		}
	}
	if len(keep) == 0 {
		return won, nil
	}
	w, err := l.n.kv.ApplyRemote(keep)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		won[i] = w[j]
	}
	return won, nil
}

func (l kvLocal) Namespaces() ([]string, error)      { return l.n.kvStore.Namespaces() }
func (l kvLocal) Digest(ns string) ([]uint64, error) { return l.n.kvStore.Digest(ns) }
func (l kvLocal) BucketsVersions(ns string, b []int) (map[int]map[string]kv.Version, error) {
	return l.n.kvStore.BucketsVersions(ns, b)
}
func (l kvLocal) GetMany(ns string, keys []string) ([]kv.Entry, error) {
	return l.n.kvStore.GetMany(ns, keys)
}

// kvNamespaceDeleted reports whether the catalog deleted namespace id
// while this node was running.
func (n *Node) kvNamespaceDeleted(id string) bool {
	n.kvMu.Lock()
	defer n.kvMu.Unlock()
	return n.kvDeleted[id]
}

// kvPeers lists the live members KV replicates to.
func (n *Node) kvPeers() []replication.Peer {
	var out []replication.Peer
	for _, m := range n.cluster.Members() {
		if m.ID != n.cfg.NodeID && m.Live() && m.GRPCAddr != "" {
			out = append(out, replication.Peer{ID: m.ID, Region: m.Region, GRPCAddr: m.GRPCAddr})
		}
	}
	return out
}

func (n *Node) regionOfNode(id string) string {
	m, _ := n.cluster.Member(id)
	return m.Region
}

// kvJanitor purges expired entries and old tombstones, and drops the data
// of namespaces deleted from the catalog, on every node.
func (n *Node) kvJanitor(ctx context.Context) {
	t := time.NewTicker(n.cfg.Timing.KVCollectInterval)
	defer t.Stop()
	known := n.kvNamespaceSet()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.catalog.Changed():
			now := n.kvNamespaceSet()
			for id := range known {
				if !now[id] {
					n.kvMu.Lock()
					n.kvDeleted[id] = true
					n.kvMu.Unlock()
					if err := n.kvStore.DropNamespace(id); err != nil {
						n.log.Error("drop deleted kv namespace", "namespace", id, "err", err)
					} else {
						n.log.Info("dropped data of deleted kv namespace", "namespace", id)
					}
				}
			}
			known = now
		case <-t.C:
			purged, err := n.kvStore.Collect(time.Now(), n.cfg.Timing.TombstoneHorizon)
			if err != nil {
				n.log.Error("kv collect", "err", err)
			} else if purged > 0 {
				n.log.Debug("kv collect", "purged", purged)
			}
		}
	}
}

func (n *Node) kvNamespaceSet() map[string]bool {
	set := make(map[string]bool)
	for _, a := range n.catalog.Accounts() {
		for _, r := range n.catalog.Resources(catalog.KindKVNamespace, a.ID) {
			set[r.ID] = true
		}
	}
	return set
}

// kvNamespaces is the node as pkg/api's KVNamespaces sees it.
type kvNamespaces Node

var _ api.KVNamespaces = (*kvNamespaces)(nil)

func toKVNamespace(r catalog.Resource) api.KVNamespace {
	return api.KVNamespace{ID: r.ID, Title: r.Name, SupportsURLEncoding: true}
}

func (k *kvNamespaces) ListKVNamespaces(account string) []api.KVNamespace {
	var out []api.KVNamespace
	for _, r := range k.catalog.Resources(catalog.KindKVNamespace, account) {
		out = append(out, toKVNamespace(r))
	}
	return out
}

func (k *kvNamespaces) GetKVNamespace(account, id string) (api.KVNamespace, bool) {
	r, ok := k.catalog.Resource(catalog.KindKVNamespace, account, id)
	return toKVNamespace(r), ok
}

func (k *kvNamespaces) CreateKVNamespace(ctx context.Context, account, title string) (api.KVNamespace, error) {
	r, err := (*Node)(k).CreateResource(ctx, catalog.KindKVNamespace, account, title)
	if err != nil {
		return api.KVNamespace{}, err
	}
	return toKVNamespace(r), nil
}

func (k *kvNamespaces) RenameKVNamespace(ctx context.Context, account, id, title string) error {
	_, err := (*Node)(k).proposeCatalog(ctx, catalog.Op{Type: catalog.OpRenameResource,
		Resource: &catalog.Resource{Kind: catalog.KindKVNamespace, AccountID: account, ID: id, Name: title}})
	return err
}

func (k *kvNamespaces) DeleteKVNamespace(ctx context.Context, account, id string) error {
	_, err := (*Node)(k).proposeCatalog(ctx, catalog.Op{Type: catalog.OpDeleteResource,
		Resource: &catalog.Resource{Kind: catalog.KindKVNamespace, AccountID: account, ID: id}})
	return err
}

// KV is the node's KV service (tests drive it directly).
func (n *Node) KV() *kv.Service { return n.kv }

// KVStore is the node's local KV store (tests compare dumps).
func (n *Node) KVStore() *kv.Store { return n.kvStore }

// kvKeysCollector reports edge_kv_keys per namespace at scrape time from
// the store's counts (entries including tombstones: approximate, as the
// issue allows).
type kvKeysCollector struct {
	store *kv.Store
	desc  *prometheus.Desc
}

func newKVKeysCollector(store *kv.Store) *kvKeysCollector {
	return &kvKeysCollector{store: store, desc: prometheus.NewDesc("edge_kv_keys",
		"Approximate number of KV entries per namespace on this node (tombstones included).", []string{"namespace"}, nil)}
}

func (c *kvKeysCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *kvKeysCollector) Collect(ch chan<- prometheus.Metric) {
	nss, err := c.store.Namespaces()
	if err != nil {
		return
	}
	for _, ns := range nss {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.store.Count(ns)), ns)
	}
}
