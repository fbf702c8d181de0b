package router

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/edgeplane/edgeplane/pkg/consensus"
)

// scriptedRaft answers Apply with the next error of its script, then
// succeeds at index 7.
type scriptedRaft struct {
	script []error
	calls  int
}

func (r *scriptedRaft) Apply(context.Context, []byte) (uint64, []byte, error) {
	r.calls++
	if len(r.script) > 0 {
		err := r.script[0]
		r.script = r.script[1:]
		return 0, nil, err
	}
	return 7, []byte("ok"), nil
}

func (r *scriptedRaft) WaitApplied(context.Context, uint64) error { return nil }

type noMembers struct{}

func (noMembers) Members() []cluster.Member            { return nil }
func (noMembers) Member(string) (cluster.Member, bool) { return cluster.Member{}, false }
func (noMembers) RTT(string) (time.Duration, bool)     { return 0, false }

func TestProposerRetriesOnlyWhatCannotHaveBeenApplied(t *testing.T) {
	// No leader known yet: retried until one is, then applied once.
	r := &scriptedRaft{script: []error{&consensus.NotLeaderError{}, &consensus.NotLeaderError{}}}
	p := NewProposer("n1", r, noMembers{}, nil, nil)
	ctx, note := withIndexNote(context.Background())
	res, err := p.Propose(ctx, []byte("cmd"))
	if err != nil || string(res) != "ok" || r.calls != 3 {
		t.Fatalf("Propose = %q, %v after %d calls; want ok after 3", res, err, r.calls)
	}
	if note.header() != "7" {
		t.Fatalf("index note = %q, want 7", note.header())
	}

	// Leadership lost while committing: the entry may still commit, so a
	// second proposal could apply it twice. No retry; a 503 for the client.
	r = &scriptedRaft{script: []error{consensus.ErrOutcomeUnknown}}
	p = NewProposer("n1", r, noMembers{}, nil, nil)
	_, err = p.Propose(context.Background(), []byte("cmd"))
	if !errors.Is(err, consensus.ErrOutcomeUnknown) || !errors.Is(err, api.ErrUnavailable) || r.calls != 1 {
		t.Fatalf("Propose after a lost leadership = %v after %d calls; want ErrOutcomeUnknown, 1 call", err, r.calls)
	}

	// A command the validator refuses never reaches Raft.
	r = &scriptedRaft{}
	p = NewProposer("n1", r, noMembers{}, nil, func([]byte, string) error { return errors.New("bad") })
	if _, err := p.Propose(context.Background(), []byte("x")); err == nil || r.calls != 0 {
		t.Fatalf("invalid command: %v after %d calls", err, r.calls)
	}

	// A caller that already gave up proposes nothing.
	r = &scriptedRaft{}
	p = NewProposer("n1", r, noMembers{}, nil, nil)
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := p.Propose(done, []byte("cmd")); !errors.Is(err, context.Canceled) || r.calls != 0 {
		t.Fatalf("cancelled context: %v after %d calls; want context.Canceled, 0 calls", err, r.calls)
	}

	// No leader ever: bounded by the context.
	r = &scriptedRaft{script: make([]error, 1000)}
	for i := range r.script {
		r.script[i] = &consensus.NotLeaderError{}
	}
	p = NewProposer("n1", r, noMembers{}, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := p.Propose(ctx, []byte("cmd")); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("without a leader: %v, want ErrNoLeader", err)
	}
}

// waitRaft is a follower whose apply never catches up: WaitApplied blocks
// until ctx ends.
type waitRaft struct{ waited int }

func (r *waitRaft) Apply(context.Context, []byte) (uint64, []byte, error) {
	return 9, []byte("ok"), nil
}

func (r *waitRaft) WaitApplied(ctx context.Context, _ uint64) error {
	r.waited++
	<-ctx.Done()
	return ctx.Err()
}

func TestProposerLeaderResultSkipsTheLocalWait(t *testing.T) {
	r := &waitRaft{}
	p := NewProposer("n1", r, noMembers{}, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := p.Propose(ctx, []byte("cmd")); err == nil || r.waited != 1 {
		t.Fatalf("Propose without LeaderResult = %v after %d waits; want the local wait's timeout", err, r.waited)
	}
	r = &waitRaft{}
	p = NewProposer("n1", r, noMembers{}, nil, nil)
	nctx, note := withIndexNote(context.Background())
	res, err := p.Propose(LeaderResult(nctx), []byte("cmd"))
	if err != nil || string(res) != "ok" || r.waited != 0 {
		t.Fatalf("Propose with LeaderResult = %q, %v after %d waits; want ok at once", res, err, r.waited)
	}
	if note.header() != "9" {
		t.Fatalf("index note = %q, want 9", note.header())
	}
}

// The leader validates a command received over gRPC with the node that
// sent it; a local proposal with this node.
func TestApplyLocalValidatesWithTheSender(t *testing.T) {
	var got []string
	validate := func(_ []byte, proposer string) error {
		got = append(got, proposer)
		return nil
	}
	p := NewProposer("n1", &waitRaft{}, noMembers{}, nil, validate)
	if _, _, err := p.ApplyLocal(withProposer(context.Background(), "n7"), []byte("cmd")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.ApplyLocal(context.Background(), []byte("cmd")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "n7" || got[1] != "n1" {
		t.Fatalf("validated with proposers %v, want [n7 n1]", got)
	}
}
