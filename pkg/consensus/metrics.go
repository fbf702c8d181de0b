package consensus

import "github.com/prometheus/client_golang/prometheus"

// collector reads Raft's state at scrape time.
type collector struct {
	n                                          *Node
	state, term, commit, applied, contact, srv *prometheus.Desc
	apHealthy, apTolerance                     *prometheus.Desc
}

func newCollector(n *Node) *collector {
	return &collector{
		n:       n,
		state:   prometheus.NewDesc("edge_raft_state", "1 for this node's current Raft role, 0 for the others.", []string{"state"}, nil),
		term:    prometheus.NewDesc("edge_raft_term", "Current Raft term.", nil, nil),
		commit:  prometheus.NewDesc("edge_raft_commit_index", "Highest Raft log index known committed.", nil, nil),
		applied: prometheus.NewDesc("edge_raft_applied_index", "Highest Raft log index applied to the state machine.", nil, nil),
		contact: prometheus.NewDesc("edge_raft_last_contact_seconds", "Seconds since this node last heard from the leader (0 on the leader).", nil, nil),
		srv:     prometheus.NewDesc("edge_raft_servers", "Servers in the Raft configuration by suffrage.", []string{"suffrage"}, nil),
		apHealthy: prometheus.NewDesc("edge_raft_autopilot_healthy",
			"1 when autopilot (run by the leader) judges every server healthy, 0 otherwise; absent on other nodes.", nil, nil),
		apTolerance: prometheus.NewDesc("edge_raft_autopilot_failure_tolerance",
			"How many voters can fail without losing the quorum, by autopilot's judgement (leader only).", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.term, c.commit, c.applied, c.contact, c.srv, c.apHealthy, c.apTolerance} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.Status()
	for _, role := range []string{RoleLeader, RoleFollower, RoleCandidate, RoleNonvoter, RoleShutdown} {
		v := 0.0
		if role == st.Role {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, role)
	}
	ch <- prometheus.MustNewConstMetric(c.term, prometheus.GaugeValue, float64(st.Term))
	ch <- prometheus.MustNewConstMetric(c.commit, prometheus.GaugeValue, float64(st.CommitIndex))
	ch <- prometheus.MustNewConstMetric(c.applied, prometheus.GaugeValue, float64(st.AppliedIndex))
	ch <- prometheus.MustNewConstMetric(c.contact, prometheus.GaugeValue, st.LastContact.Seconds())
	ch <- prometheus.MustNewConstMetric(c.srv, prometheus.GaugeValue, float64(st.Voters), "voter")
	ch <- prometheus.MustNewConstMetric(c.srv, prometheus.GaugeValue, float64(st.Nonvoters), "nonvoter")
	if ap := c.n.delegate.lastState(); ap != nil && st.Role == RoleLeader && len(ap.Servers) > 0 {
		healthy := 0.0
		if ap.Healthy {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(c.apHealthy, prometheus.GaugeValue, healthy)
		ch <- prometheus.MustNewConstMetric(c.apTolerance, prometheus.GaugeValue, float64(ap.FailureTolerance))
	}
}
