package d1

import "github.com/edgeplane/edgeplane/pkg/service/servicetest"

// soloRaft is service.Raft for a testEnv: one node that always leads and
// has applied every index its fake proposer handed out.
func soloRaft(te *testEnv) *servicetest.Leader {
	return &servicetest.Leader{ID: "solo", Index: func() uint64 {
		te.mu.Lock()
		defer te.mu.Unlock()
		return te.index
	}}
}
