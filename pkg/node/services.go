package node

import (
	"context"
	"fmt"
	"os"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// buildServices builds every service the node was given, each with its own
// data directory, and the Raft state machine that carries the catalog and
// the services' replicated state. It runs before Raft starts, since Raft
// replays the log into the state machine as it opens.
func (n *Node) buildServices() error {
	n.fsm = replication.NewFSM(n.catalog, n.log, n.reg)
	seen := make(map[string]bool)
	for _, f := range n.cfg.Services {
		name := f.Name
		if seen[name] || !validName(name) {
			return fmt.Errorf("start service %q: the name is empty, invalid or given twice", name)
		}
		seen[name] = true
		deps := n.serviceDeps()
		deps.DataDir = n.layout.ServiceDir(name)
		if err := os.MkdirAll(deps.DataDir, 0o700); err != nil {
			return fmt.Errorf("start service %s: data dir: %w", name, err)
		}
		svc, err := f.New(deps)
		if err != nil {
			return fmt.Errorf("start service %s: %w", name, err)
		}
		n.services = append(n.services, svc)
		if svc.Name() != name {
			return fmt.Errorf("start service %s: it calls itself %q", name, svc.Name())
		}
		if sm, ok := svc.(service.StateMachine); ok {
			if err := n.fsm.Register(name, sm); err != nil {
				return fmt.Errorf("start service %s: %w", name, err)
			}
		}
	}
	return nil
}

// serviceDeps is what the node lends every service (DataDir is each one's).
func (n *Node) serviceDeps() service.Deps {
	return service.Deps{
		NodeID:     n.cfg.NodeID,
		Region:     n.cfg.Region,
		Catalog:    n.catalog,
		Propose:    n.Propose,
		Pool:       n.pool,
		Raft:       (*raftView)(n),
		Members:    n.cluster,
		Registerer: n.reg,
		Logger:     n.log,
		OnFatal:    n.fatal,
	}
}

// Service returns the running service named name (tests reach into it).
func (n *Node) Service(name string) service.Service {
	for _, s := range n.services {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// resources is the node as the API's catalog resource handlers see it.
type resources Node

var _ api.Resources = (*resources)(nil)

func (r *resources) Account(id string) (catalog.Account, bool) { return r.catalog.Account(id) }

func (r *resources) Resource(kind catalog.Kind, account, id string) (catalog.Resource, bool) {
	return r.catalog.Resource(kind, account, id)
}

func (r *resources) Resources(kind catalog.Kind, account string) []catalog.Resource {
	return r.catalog.Resources(kind, account)
}

func (r *resources) CreateResource(ctx context.Context, res catalog.Resource) (catalog.Resource, error) {
	return (*Node)(r).createResource(ctx, res)
}

func (r *resources) RenameResource(ctx context.Context, kind catalog.Kind, account, id, name string) error {
	_, err := (*Node)(r).proposeCatalog(ctx, catalog.Op{Type: catalog.OpRenameResource,
		Resource: &catalog.Resource{Kind: kind, AccountID: account, ID: id, Name: name}})
	return err
}

func (r *resources) SetResourceAttrs(ctx context.Context, kind catalog.Kind, account, id string, attrs map[string]string) (catalog.Resource, error) {
	res, err := (*Node)(r).proposeCatalog(ctx, catalog.Op{Type: catalog.OpSetResourceAttrs,
		Resource: &catalog.Resource{Kind: kind, AccountID: account, ID: id, Attrs: attrs}})
	if err != nil {
		return catalog.Resource{}, err
	}
	return *res.Resource, nil
}

func (r *resources) DeleteResource(ctx context.Context, kind catalog.Kind, account, id string) error {
	_, err := (*Node)(r).proposeCatalog(ctx, catalog.Op{Type: catalog.OpDeleteResource,
		Resource: &catalog.Resource{Kind: kind, AccountID: account, ID: id}})
	return err
}
