package objstore

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

func newTestServer(t testing.TB) (*server, *Store) {
	t.Helper()
	s, err := Open(t.TempDir(), Options{StorageCap: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &server{r: NewReplicator(s, nil, "self")}, s
}

func pb(c uint64, n string) *edgev1.DOBallot { return &edgev1.DOBallot{Counter: c, Node: n} }

// chunkStream feeds InstallState from a list of chunks.
type chunkStream struct {
	grpc.ServerStream
	chunks []*edgev1.DOStateChunk
	resp   *edgev1.DOAcceptResponse
}

func (s *chunkStream) Context() context.Context { return context.Background() }

func (s *chunkStream) Recv() (*edgev1.DOStateChunk, error) {
	if len(s.chunks) == 0 {
		return nil, status.Error(codes.Canceled, "no more chunks")
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return c, nil
}

func (s *chunkStream) SendAndClose(r *edgev1.DOAcceptResponse) error { s.resp = r; return nil }

func TestServerRefusesInvalidRequests(t *testing.T) {
	srv, store := newTestServer(t)
	ctx := context.Background()
	good := func() *edgev1.DOAcceptRequest {
		return &edgev1.DOAcceptRequest{Obj: testObj, Ballot: pb(1, "a"), BaseBallot: pb(1, "a"), BaseSeq: 0, Seq: 1,
			Ops: []*edgev1.DOOp{{Kind: 1, Key: "k", Value: []byte("v")}}, Replicas: []string{"a", "b"}}
	}
	cases := map[string]func(r *edgev1.DOAcceptRequest){
		"bad object":           func(r *edgev1.DOAcceptRequest) { r.Obj = "ns1/XYZ" },
		"object without ns":    func(r *edgev1.DOAcceptRequest) { r.Obj = strings.Repeat("a", 64) },
		"namespace too long":   func(r *edgev1.DOAcceptRequest) { r.Obj = strings.Repeat("n", 65) + testObj[3:] },
		"zero ballot":          func(r *edgev1.DOAcceptRequest) { r.Ballot = nil },
		"ballot without node":  func(r *edgev1.DOAcceptRequest) { r.Ballot = pb(1, "") },
		"node not utf8":        func(r *edgev1.DOAcceptRequest) { r.Ballot = pb(1, "\xff") },
		"base above ballot":    func(r *edgev1.DOAcceptRequest) { r.BaseBallot = pb(2, "a") },
		"ops on older base":    func(r *edgev1.DOAcceptRequest) { r.Ballot = pb(2, "a") },
		"seq gap":              func(r *edgev1.DOAcceptRequest) { r.Seq = 2 },
		"seq without ops":      func(r *edgev1.DOAcceptRequest) { r.Ops = nil },
		"key too long":         func(r *edgev1.DOAcceptRequest) { r.Ops[0].Key = strings.Repeat("k", MaxKeyBytes+1) },
		"key not utf8":         func(r *edgev1.DOAcceptRequest) { r.Ops[0].Key = "\xc3" },
		"entry too large":      func(r *edgev1.DOAcceptRequest) { r.Ops[0].Value = make([]byte, MaxEntryBytes) },
		"unknown op":           func(r *edgev1.DOAcceptRequest) { r.Ops[0].Kind = 300 },
		"alarm of 3 bytes":     func(r *edgev1.DOAcceptRequest) { r.Ops[0] = &edgev1.DOOp{Kind: 4, Value: []byte{1, 2, 3}} },
		"no replicas":          func(r *edgev1.DOAcceptRequest) { r.Replicas = nil },
		"duplicate replicas":   func(r *edgev1.DOAcceptRequest) { r.Replicas = []string{"a", "a"} },
		"too many replicas":    func(r *edgev1.DOAcceptRequest) { r.Replicas = make([]string, MaxReplicas+1) },
		"seq without base":     func(r *edgev1.DOAcceptRequest) { r.BaseBallot, r.BaseSeq, r.Seq = nil, 3, 4 },
		"too many ops":         func(r *edgev1.DOAcceptRequest) { r.Ops = make([]*edgev1.DOOp, MaxOpsPerCommit+1) },
		"control char in node": func(r *edgev1.DOAcceptRequest) { r.Replicas = []string{"a\n"} },
	}
	for name, mutate := range cases {
		req := good()
		mutate(req)
		_, err := srv.Accept(ctx, req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if m, _ := store.Meta(testObj); m.Seq != 0 || !m.Promised.IsZero() {
		t.Fatalf("refused requests changed the store: %+v", m)
	}
	// The good one passes, at the edges, once the replica adopted the
	// (empty) state under the ballot.
	if resp, err := srv.Accept(ctx, &edgev1.DOAcceptRequest{Obj: testObj, Ballot: pb(1, "a"), Replicas: []string{"a"}}); err != nil || !resp.GetOk() {
		t.Fatalf("adopt: %v %v", resp, err)
	}
	req := good()
	req.Ops[0].Key = strings.Repeat("k", MaxKeyBytes)
	req.Ops[0].Value = make([]byte, MaxEntryBytes-MaxKeyBytes)
	resp, err := srv.Accept(ctx, req)
	if err != nil || !resp.GetOk() {
		t.Fatalf("valid accept at the limits: %v %v", resp, err)
	}
	for name, req := range map[string]*edgev1.DOPrepareRequest{
		"bad object": {Obj: "x/y", Ballot: pb(1, "a")}, "zero ballot": {Obj: testObj},
	} {
		if _, err := srv.Prepare(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("prepare %s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestInstallStateValidation(t *testing.T) {
	srv, store := newTestServer(t)
	header := func() *edgev1.DOStateChunk {
		return &edgev1.DOStateChunk{Obj: testObj, Ballot: pb(2, "a"), Accepted: pb(2, "a"), Seq: 7,
			Replicas: []string{"a", "b"}, TotalEntries: 2,
			Entries: []*edgev1.DOEntry{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}}, Last: true}
	}
	bad := map[string][]*edgev1.DOStateChunk{
		"keys out of order": {func() *edgev1.DOStateChunk {
			h := header()
			h.Entries[0].Key = "c"
			return h
		}()},
		"more entries than announced":   {func() *edgev1.DOStateChunk { h := header(); h.TotalEntries = 1; return h }()},
		"fewer entries than announced":  {func() *edgev1.DOStateChunk { h := header(); h.TotalEntries = 3; return h }()},
		"accepted under another ballot": {func() *edgev1.DOStateChunk { h := header(); h.Accepted = pb(1, "a"); return h }()},
		"no replica set":                {func() *edgev1.DOStateChunk { h := header(); h.Replicas = nil; return h }()},
		"second chunk names another object": {
			func() *edgev1.DOStateChunk { h := header(); h.Last = false; h.TotalEntries = 3; return h }(),
			{Obj: objID(9), Entries: []*edgev1.DOEntry{{Key: "c"}}, Last: true}},
		"header fields past the first chunk": {
			func() *edgev1.DOStateChunk { h := header(); h.Last = false; h.TotalEntries = 3; return h }(),
			{Obj: testObj, Seq: 9, Entries: []*edgev1.DOEntry{{Key: "c"}}, Last: true}},
		"over the storage cap": {func() *edgev1.DOStateChunk {
			h := header()
			h.Entries[1].Value = make([]byte, 1<<20)
			return h
		}()},
		"stream ends early": {func() *edgev1.DOStateChunk { h := header(); h.Last = false; return h }()},
	}
	for name, chunks := range bad {
		st := &chunkStream{chunks: chunks}
		if err := srv.InstallState(st); err == nil {
			t.Errorf("%s: installed", name)
		}
	}
	if m, _ := store.Meta(testObj); m.Seq != 0 {
		t.Fatalf("refused installs changed the store: %+v", m)
	}
	st := &chunkStream{chunks: []*edgev1.DOStateChunk{header()}}
	if err := srv.InstallState(st); err != nil || !st.resp.GetOk() {
		t.Fatalf("valid install: %v %v", st.resp, err)
	}
	if m, _ := store.Meta(testObj); m.Seq != 7 || m.Size != 4 || m.Accepted != (Ballot{2, "a"}) {
		t.Fatalf("after install: %+v", m)
	}
	// A lower ballot is refused once a higher one was promised.
	if _, err := srv.Prepare(context.Background(), &edgev1.DOPrepareRequest{Obj: testObj, Ballot: pb(5, "b")}); err != nil {
		t.Fatal(err)
	}
	st = &chunkStream{chunks: []*edgev1.DOStateChunk{header()}}
	if err := srv.InstallState(st); err != nil || !st.resp.GetSuperseded() {
		t.Fatalf("install under a lower ballot: %v %v", st.resp, err)
	}
}

// FuzzReplicaRequests feeds arbitrary Prepare, Accept and InstallState
// messages to a replica: none may crash it, and whatever it accepts keeps
// its store consistent (metadata decodes, the size matches the entries).
func FuzzReplicaRequests(f *testing.F) {
	seed := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	f.Add(byte(0), seed(&edgev1.DOPrepareRequest{Obj: testObj, Ballot: pb(1, "a")}))
	f.Add(byte(1), seed(&edgev1.DOAcceptRequest{Obj: testObj, Ballot: pb(1, "a"), BaseBallot: pb(1, "a"), Seq: 1,
		Ops: []*edgev1.DOOp{{Kind: 1, Key: "k", Value: []byte("v")}, {Kind: 3}, {Kind: 4, Value: make([]byte, 8)}}, Replicas: []string{"a"}}))
	f.Add(byte(1), seed(&edgev1.DOAcceptRequest{Obj: testObj, Ballot: pb(2, "b"), Replicas: []string{"b"}}))
	f.Add(byte(2), seed(&edgev1.DOStateChunk{Obj: testObj, Ballot: pb(3, "a"), Accepted: pb(3, "a"), Seq: 2,
		Replicas: []string{"a"}, TotalEntries: 1, Entries: []*edgev1.DOEntry{{Key: "x", Value: []byte("1")}}, Last: true}))
	srv, store := newTestServer(f)
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		ctx := context.Background()
		switch which % 3 {
		case 0:
			var req edgev1.DOPrepareRequest
			if proto.Unmarshal(data, &req) != nil {
				return
			}
			_, _ = srv.Prepare(ctx, &req)
		case 1:
			var req edgev1.DOAcceptRequest
			if proto.Unmarshal(data, &req) != nil {
				return
			}
			_, _ = srv.Accept(ctx, &req)
		case 2:
			var c edgev1.DOStateChunk
			if proto.Unmarshal(data, &c) != nil {
				return
			}
			_ = srv.InstallState(&chunkStream{chunks: []*edgev1.DOStateChunk{&c}})
		}
		m, err := store.Meta(testObj)
		if err != nil {
			t.Fatalf("metadata damaged: %v", err)
		}
		es, err := store.List(testObj, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var size int64
		for _, e := range es {
			size += int64(len(e.Key) + len(e.Value))
		}
		if size != m.Size {
			t.Fatalf("size %d recorded, entries weigh %d", m.Size, size)
		}
	})
}
