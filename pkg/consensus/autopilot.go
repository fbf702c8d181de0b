package consensus

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// delegate is autopilot's view of the application: servers from gossip,
// their Raft stats over gRPC, and removal of failed servers.
type delegate struct {
	n *Node

	mu           sync.Mutex
	missingSince map[raft.ServerID]time.Time // in the configuration, unknown to gossip
	removing     map[raft.ServerID]bool
	state        *autopilot.State
}

var _ autopilot.ApplicationIntegration = (*delegate)(nil)

func newDelegate(n *Node) *delegate {
	return &delegate{n: n, missingSince: make(map[raft.ServerID]time.Time), removing: make(map[raft.ServerID]bool)}
}

func (d *delegate) AutopilotConfig() *autopilot.Config {
	c := d.n.cfg
	return &autopilot.Config{
		CleanupDeadServers:      true,
		LastContactThreshold:    c.LastContactThreshold,
		MaxTrailingLogs:         c.MaxTrailingLogs,
		ServerStabilizationTime: c.ServerStabilizationTime,
	}
}

func (d *delegate) NotifyState(s *autopilot.State) {
	d.mu.Lock()
	prev := d.state
	d.state = s
	d.mu.Unlock()
	if s == nil {
		return
	}
	// Log health changes: they explain every promotion and demotion.
	for id, srv := range s.Servers {
		var was *autopilot.ServerState
		if prev != nil {
			was = prev.Servers[id]
		}
		if was == nil || was.Health.Healthy != srv.Health.Healthy {
			d.n.log.Info("autopilot: server health", "server", id, "healthy", srv.Health.Healthy,
				"state", string(srv.State), "status", string(srv.Server.NodeStatus),
				"last_contact", srv.Stats.LastContact, "last_term", srv.Stats.LastTerm, "last_index", srv.Stats.LastIndex)
		}
	}
}

// lastState is autopilot's latest state, nil before the first one.
func (d *delegate) lastState() *autopilot.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// KnownServers reports every gossip member with a Raft address and every
// server of the Raft configuration gossip does not know (as failed, since
// first seen missing), so autopilot never removes a server as "stale"
// without the grace period.
func (d *delegate) KnownServers() map[raft.ServerID]*autopilot.Server {
	members := d.n.cfg.Members()
	leaderID := raft.ServerID("")
	if d.n.raft.State() == raft.Leader {
		leaderID = raft.ServerID(d.n.cfg.NodeID)
	}
	out := make(map[raft.ServerID]*autopilot.Server, len(members))
	for _, m := range members {
		if m.RaftAddr == "" {
			continue
		}
		srv := &autopilot.Server{
			ID: raft.ServerID(m.ID), Name: m.ID, Address: raft.ServerAddress(m.RaftAddr),
			Version: m.Version, RaftVersion: 3, IsLeader: raft.ServerID(m.ID) == leaderID,
			Meta: map[string]string{metaRegion: m.Region},
		}
		switch {
		case m.ID == d.n.cfg.NodeID:
			srv.NodeStatus = autopilot.NodeAlive
		case m.Live() && !m.Leaving:
			srv.NodeStatus = autopilot.NodeAlive
		case m.State == cluster.StateLeft || m.Leaving:
			srv.NodeStatus = autopilot.NodeLeft
			srv.Meta[metaDownSince] = strconv.FormatInt(m.Since.UnixNano(), 10)
		default:
			srv.NodeStatus = autopilot.NodeFailed
			srv.Meta[metaDownSince] = strconv.FormatInt(m.Since.UnixNano(), 10)
		}
		out[srv.ID] = srv
	}

	cf := d.n.raft.GetConfiguration()
	if cf.Error() != nil {
		return out
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	inConfig := make(map[raft.ServerID]bool)
	for _, s := range cf.Configuration().Servers {
		inConfig[s.ID] = true
		if _, ok := out[s.ID]; ok {
			delete(d.missingSince, s.ID)
			continue
		}
		since, ok := d.missingSince[s.ID]
		if !ok {
			since = now
			d.missingSince[s.ID] = now
		}
		out[s.ID] = &autopilot.Server{
			ID: s.ID, Name: string(s.ID), Address: s.Address, RaftVersion: 3,
			NodeStatus: autopilot.NodeFailed,
			Meta:       map[string]string{metaDownSince: strconv.FormatInt(since.UnixNano(), 10)},
		}
	}
	for id := range d.missingSince {
		if !inConfig[id] {
			delete(d.missingSince, id)
		}
	}
	return out
}

// FetchServerStats asks every live server for its own Raft stats. A server
// that does not answer gets a negative last contact, which autopilot counts
// as unhealthy (its last answer must not keep it looking healthy).
func (d *delegate) FetchServerStats(ctx context.Context, servers map[raft.ServerID]*autopilot.Server) map[raft.ServerID]*autopilot.ServerStats {
	addrs := make(map[string]string)
	for _, m := range d.n.cfg.Members() {
		addrs[m.ID] = m.GRPCAddr
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := make(map[raft.ServerID]*autopilot.ServerStats, len(servers))
	for id, srv := range servers {
		if string(id) == d.n.cfg.NodeID {
			st := d.n.localStats()
			mu.Lock()
			out[id] = &autopilot.ServerStats{LastContact: st.lastContact, LastTerm: st.lastTerm, LastIndex: st.lastIndex}
			mu.Unlock()
			continue
		}
		if srv.NodeStatus != autopilot.NodeAlive {
			mu.Lock()
			out[id] = &autopilot.ServerStats{LastContact: -1}
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &autopilot.ServerStats{LastContact: -1}
			resp, err := d.n.peers.fetchStats(ctx, addrs[string(id)])
			if err == nil && resp.GetNodeId() == string(id) {
				st = &autopilot.ServerStats{
					LastContact: time.Duration(resp.GetLastContactNs()),
					LastTerm:    resp.GetLastTerm(),
					LastIndex:   resp.GetLastIndex(),
				}
			} else if err != nil {
				d.n.log.Debug("raft stats unavailable", "server", id, "err", err)
			}
			mu.Lock()
			out[id] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// RemoveFailedServer removes a server autopilot (and the promoter's grace
// period) judged dead. Autopilot expects it to return at once.
func (d *delegate) RemoveFailedServer(srv *autopilot.Server) {
	d.mu.Lock()
	if d.removing[srv.ID] {
		d.mu.Unlock()
		return
	}
	d.removing[srv.ID] = true
	d.mu.Unlock()
	go func() {
		defer func() {
			d.mu.Lock()
			delete(d.removing, srv.ID)
			d.mu.Unlock()
		}()
		if err := d.n.raft.RemoveServer(srv.ID, 0, 5*time.Second).Error(); err != nil {
			d.n.log.Warn("remove failed server", "server", srv.ID, "err", err)
			return
		}
		d.n.log.Info("raft membership changed", "action", "remove", "server", srv.ID,
			"reason", "server "+string(srv.NodeStatus)+" longer than the grace period")
		if d.n.cfg.Forget != nil {
			d.n.cfg.Forget(string(srv.ID))
		}
	}()
}
