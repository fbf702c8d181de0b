package consensus

import (
	"log/slog"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/cluster"
)

func TestDepartedPeerNoise(t *testing.T) {
	members := []cluster.Member{
		{Meta: cluster.Meta{ID: "n2", RaftAddr: "127.0.0.62:8789"}, State: cluster.StateLeft},
		{Meta: cluster.Meta{ID: "n3", RaftAddr: "127.0.0.63:8789"}, State: cluster.StateFailed},
	}
	adjust := departedPeerNoise(func() []cluster.Member { return members })
	cases := []struct {
		msg  string
		want slog.Level
	}{
		{`raft: failed to appendEntries to: peer="{Voter n2 127.0.0.62:8789}" error="dial tcp 127.0.0.62:8789: connect: connection refused"`, slog.LevelDebug},
		{`raft: failed to heartbeat to: peer=127.0.0.62:8789 backoff time=10ms error=EOF`, slog.LevelDebug},
		{`raft: failed to heartbeat to: peer=127.0.0.63:8789 backoff time=10ms error=EOF`, slog.LevelError},
		{`raft: failed to heartbeat to: peer=127.0.0.6:8789 error=EOF`, slog.LevelError},
		{`raft: failed to heartbeat to: peer=127.0.0.62:87890 error=EOF`, slog.LevelError},
		{`raft: failed to contact: server-id=n2 time=500.06ms`, slog.LevelDebug},
		{`raft: failed to contact: server-id=n22 time=500.06ms`, slog.LevelError},
	}
	for _, c := range cases {
		if got := adjust(slog.LevelError, c.msg); got != c.want {
			t.Errorf("%s: level %v, want %v", c.msg, got, c.want)
		}
	}
	if got := adjust(slog.LevelInfo, cases[0].msg); got != slog.LevelInfo {
		t.Errorf("info changed to %v", got)
	}
}
