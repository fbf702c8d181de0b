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

func TestPlanAdditions(t *testing.T) {
	alive := cluster.StateAlive
	tests := []struct {
		name    string
		servers []raft.Server
		members []cluster.Member
		want    action
		none    bool
	}{
		{
			name:    "new live member joins as non-voter",
			servers: []raft.Server{server("a", true)},
			members: []cluster.Member{member("a", "us", alive, 0), member("b", "eu", alive, 0)},
			want:    action{kind: actAddNonvoter, id: "b", addr: "b:8789"},
		},
		{
			name:    "a suspect, failed or leaving member is not added",
			servers: []raft.Server{server("a", true)},
			members: []cluster.Member{member("a", "us", alive, 0), member("b", "eu", cluster.StateSuspect, 0),
				member("c", "eu", cluster.StateFailed, 0), {Meta: cluster.Meta{ID: "d", RaftAddr: "d:1", Leaving: true}, State: alive}},
			none: true,
		},
		{
			name:    "all in the configuration: nothing to do (suffrage is autopilot's)",
			servers: []raft.Server{server("a", true), server("b", false), server("c", false)},
			members: []cluster.Member{member("a", "us", alive, 0), member("b", "eu", alive, 0), member("c", "ap", alive, 0)},
			none:    true,
		},
		{
			name:    "moved voter gets its new address, keeping its vote",
			servers: []raft.Server{server("a", true), {ID: "b", Address: "old:1", Suffrage: raft.Voter}},
			members: []cluster.Member{member("a", "us", alive, 0), member("b", "eu", alive, 0)},
			want:    action{kind: actAddVoter, id: "b", addr: "b:8789"},
		},
		{
			name:    "moved non-voter stays a non-voter",
			servers: []raft.Server{server("a", true), {ID: "b", Address: "old:1", Suffrage: raft.Nonvoter}},
			members: []cluster.Member{member("a", "us", alive, 0), member("b", "eu", alive, 0)},
			want:    action{kind: actAddNonvoter, id: "b", addr: "b:8789"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := planAdditions(tt.servers, tt.members)
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

func TestFormationPlan(t *testing.T) {
	alive := cluster.StateAlive
	ms := []cluster.Member{member("c", "ap", alive, 0), member("a", "us", alive, 0), member("b", "eu", alive, 0)}
	conf, others, ok, why := formationPlan("b", ms, 3)
	if !ok {
		t.Fatalf("not ok: %s", why)
	}
	if len(conf.Servers) != 3 || conf.Servers[0].ID != "a" || conf.Servers[2].ID != "c" || len(others) != 2 {
		t.Fatalf("conf %+v others %v", conf, others)
	}
	for _, s := range conf.Servers {
		if s.Suffrage != raft.Voter {
			t.Fatalf("%s not a voter", s.ID)
		}
	}
	// Every node of the three computes the same configuration.
	for _, self := range []string{"a", "c"} {
		c2, _, ok, _ := formationPlan(self, ms, 3)
		if !ok || len(c2.Servers) != 3 {
			t.Fatalf("%s: %+v", self, c2)
		}
		for i := range c2.Servers {
			if c2.Servers[i] != conf.Servers[i] {
				t.Fatalf("%s computes %+v, b computes %+v", self, c2, conf)
			}
		}
	}
	if _, _, ok, _ := formationPlan("a", ms[:2], 3); ok {
		t.Fatal("bootstrapped with two of three members")
	}
	failed := append([]cluster.Member{member("d", "eu", cluster.StateFailed, 0)}, ms[:2]...)
	if _, _, ok, _ := formationPlan("a", failed, 3); ok {
		t.Fatal("a failed member counted")
	}
	four := append([]cluster.Member{member("d", "eu", alive, 0)}, ms...)
	if _, _, ok, _ := formationPlan("d", four, 3); ok {
		t.Fatal("fourth member by id bootstrapped")
	}
}
