package consensus

import (
	"log/slog"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/cluster"
)

// departedPeerNoise lowers to debug the raft library's errors about a
// peer that left the cluster on purpose (its gossip state is "left"):
// after a clean shutdown the leader keeps the peer in its configuration
// until the dead-server grace ends and logs every failed heartbeat and
// append to it at ERROR, though nothing is wrong. Errors about a peer that
// failed (not left) stay errors.
func departedPeerNoise(members func() []cluster.Member) func(slog.Level, string) slog.Level {
	return func(level slog.Level, msg string) slog.Level {
		if level < slog.LevelWarn || members == nil {
			return level
		}
		for _, m := range members() {
			if m.State != cluster.StateLeft {
				continue
			}
			if m.RaftAddr != "" && mentionsAddr(msg, m.RaftAddr) || m.ID != "" && mentionsAddr(msg, "server-id="+m.ID) {
				return slog.LevelDebug
			}
		}
		return level
	}
}

// mentionsAddr reports whether msg contains addr as a whole address (so
// 1.2.3.4:80 does not match inside 11.2.3.4:8080).
func mentionsAddr(msg, addr string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], addr)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(addr)
		before := start == 0 || !isAddrChar(msg[start-1])
		after := end == len(msg) || !isAddrChar(msg[end])
		if before && after {
			return true
		}
		i = start + 1
	}
}

func isAddrChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == ':'
}
