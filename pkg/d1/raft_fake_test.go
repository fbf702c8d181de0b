package d1

import (
	"context"
	"time"
)

// soloRaft is service.Raft for a testEnv: one node that always leads and
// has applied every index its fake proposer handed out.
type soloRaft struct{ te *testEnv }

func (s *soloRaft) current() uint64 {
	s.te.mu.Lock()
	defer s.te.mu.Unlock()
	return s.te.index
}

func (s *soloRaft) LeaderID() string                   { return "solo" }
func (s *soloRaft) IsLeader() bool                     { return true }
func (s *soloRaft) VerifyLeader(context.Context) error { return nil }
func (s *soloRaft) ReadIndex(context.Context) (uint64, error) {
	return s.current(), nil
}
func (s *soloRaft) CommitIndex() uint64  { return s.current() }
func (s *soloRaft) AppliedIndex() uint64 { return s.current() }
func (s *soloRaft) WaitApplied(ctx context.Context, index uint64) error {
	if s.current() >= index {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}
func (s *soloRaft) LastContact() time.Duration { return 0 }
