package consensus

import (
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/hashicorp/raft"
)

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func member(id, region string, state cluster.State, since time.Duration) cluster.Member {
	return cluster.Member{
		Meta:  cluster.Meta{ID: id, Region: region, RaftAddr: id + ":8789"},
		State: state,
		Since: now.Add(-since),
	}
}

func server(id string, voter bool) raft.Server {
	s := raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(id + ":8789"), Suffrage: raft.Nonvoter}
	if voter {
		s.Suffrage = raft.Voter
	}
	return s
}

func input(servers []raft.Server, members ...cluster.Member) planInput {
	return planInput{
		self: "a", servers: servers, members: members, now: now,
		missingSince: map[string]time.Time{}, voters: 3,
		deadGrace: 60 * time.Second, voterReplaceAfter: 10 * time.Second,
	}
}

func TestPlan(t *testing.T) {
	alive := cluster.StateAlive
	tests := []struct {
		name string
		in   planInput
		want action
		none bool
	}{
		{
			name: "new live member joins as non-voter",
			in:   input([]raft.Server{server("a", true)}, member("a", "us", alive, 0), member("b", "eu", alive, 0)),
			want: action{kind: actAddNonvoter, id: "b", addr: "b:8789"},
		},
		{
			name: "healthy non-voter promoted below target",
			in:   input([]raft.Server{server("a", true), server("b", false)}, member("a", "us", alive, 0), member("b", "eu", alive, 0)),
			want: action{kind: actAddVoter, id: "b", addr: "b:8789"},
		},
		{
			name: "promotion prefers a region without voters",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", false), server("d", false)},
				member("a", "us", alive, 0), member("b", "eu", alive, 0), member("c", "us", alive, 0), member("d", "ap", alive, 0)),
			want: action{kind: actAddVoter, id: "d", addr: "d:8789"},
		},
		{
			name: "at target and spread: nothing to do",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", true), server("d", false), server("e", false)},
				member("a", "us", alive, 0), member("b", "eu", alive, 0), member("c", "ap", alive, 0), member("d", "us", alive, 0), member("e", "eu", alive, 0)),
			none: true,
		},
		{
			name: "two voters in one region, a region with none: spread",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", true), server("d", false)},
				member("a", "us", alive, 0), member("b", "us", alive, 0), member("c", "eu", alive, 0), member("d", "ap", alive, 0)),
			want: action{kind: actAddVoter, id: "d", addr: "d:8789"},
		},
		{
			name: "surplus voter demoted from the crowded region, never self",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", true), server("d", true)},
				member("a", "us", alive, 0), member("b", "us", alive, 0), member("c", "eu", alive, 0), member("d", "ap", alive, 0)),
			want: action{kind: actDemote, id: "b"},
		},
		{
			name: "failed voter with a replacement is demoted after replaceAfter",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", true), server("d", false)},
				member("a", "us", alive, 0), member("b", "eu", cluster.StateFailed, 11*time.Second), member("c", "ap", alive, 0), member("d", "eu", alive, 0)),
			want: action{kind: actDemote, id: "b"},
		},
		{
			name: "freshly failed voter: a healthy non-voter is promoted at once",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", true), server("d", false)},
				member("a", "us", alive, 0), member("b", "eu", cluster.StateFailed, 5*time.Second), member("c", "ap", alive, 0), member("d", "eu", alive, 0)),
			want: action{kind: actAddVoter, id: "d", addr: "d:8789"},
		},
		{
			name: "then the failed voter is the surplus one demoted",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", true), server("d", true)},
				member("a", "us", alive, 0), member("b", "eu", cluster.StateFailed, 5*time.Second), member("c", "ap", alive, 0), member("d", "eu", alive, 0)),
			want: action{kind: actDemote, id: "b"},
		},
		{
			name: "failed voter without replacement is kept until the grace",
			in: input([]raft.Server{server("a", true), server("b", true), server("c", true)},
				member("a", "us", alive, 0), member("b", "eu", cluster.StateFailed, 30*time.Second), member("c", "ap", alive, 0)),
			none: true,
		},
		{
			name: "failed past the grace is removed",
			in: input([]raft.Server{server("a", true), server("b", false)},
				member("a", "us", alive, 0), member("b", "eu", cluster.StateFailed, 61*time.Second)),
			want: action{kind: actRemove, id: "b"},
		},
		{
			name: "left is kept through the grace (a restart comes back)",
			in: input([]raft.Server{server("a", true), server("b", true)},
				member("a", "us", alive, 0), member("b", "eu", cluster.StateLeft, time.Second)),
			none: true,
		},
		{
			name: "left past the grace is removed",
			in: input([]raft.Server{server("a", true), server("b", true)},
				member("a", "us", alive, 0), member("b", "eu", cluster.StateLeft, 61*time.Second)),
			want: action{kind: actRemove, id: "b"},
		},
		{
			name: "moved member gets its new address, keeping its vote",
			in: input([]raft.Server{server("a", true), {ID: "b", Address: "old:1", Suffrage: raft.Voter}},
				member("a", "us", alive, 0), member("b", "eu", alive, 0)),
			want: action{kind: actAddVoter, id: "b", addr: "b:8789"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := plan(tt.in)
			if tt.none {
				if ok {
					t.Fatalf("want no action, got %+v", got)
				}
				return
			}
			if !ok || got.kind != tt.want.kind || got.id != tt.want.id || got.addr != tt.want.addr {
				t.Fatalf("got %+v (ok=%v), want %+v", got, ok, tt.want)
			}
		})
	}
}

func TestPlanUnknownServerRemovedAfterGrace(t *testing.T) {
	in := input([]raft.Server{server("a", true), server("ghost", false)}, member("a", "us", cluster.StateAlive, 0))
	in.missingSince["ghost"] = now.Add(-30 * time.Second)
	if act, ok := plan(in); ok {
		t.Fatalf("removed before grace: %+v", act)
	}
	in.missingSince["ghost"] = now.Add(-61 * time.Second)
	if act, ok := plan(in); !ok || act.kind != actRemove || act.id != "ghost" {
		t.Fatalf("got %+v %v", act, ok)
	}
}
