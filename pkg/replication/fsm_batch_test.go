package replication

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/hashicorp/raft"
)

// batchMachine is a counterMachine that also applies runs at once and
// records their lengths.
type batchMachine struct {
	counterMachine
	runs []int
}

func (m *batchMachine) ApplyCommands(entries []Entry) []Result {
	m.runs = append(m.runs, len(entries))
	out := make([]Result, len(entries))
	for i, e := range entries {
		out[i].Data, out[i].Err = m.ApplyCommand(e.Index, e.Payload)
	}
	return out
}

// ApplyBatch hands runs of consecutive commands of a batching service to
// it at once, applies everything else one by one, keeps every result in
// its entry's place and moves the applied index to the batch's end.
func TestFSMApplyBatchGroupsRuns(t *testing.T) {
	f, cat, _ := newTestFSM(t)
	bm := &batchMachine{counterMachine: counterMachine{typ: 5}}
	plain := &counterMachine{typ: 6}
	if err := f.Register("b", bm); err != nil {
		t.Fatal(err)
	}
	if err := f.Register("p", plain); err != nil {
		t.Fatal(err)
	}
	cmd := func(i uint64, typ CommandType, p string) *raft.Log {
		return &raft.Log{Index: i, Type: raft.LogCommand, Data: EncodeCommand(typ, []byte(p))}
	}
	logs := []*raft.Log{
		catalogEntry(t, 1, catalog.Op{Type: catalog.OpInit, At: time.Unix(1, 0), Account: &catalog.Account{ID: "a"}}),
		cmd(2, 5, "\x01"),
		cmd(3, 5, "\x02"),
		cmd(4, 5, ""), // refused by the service: an error result, the run goes on
		{Index: 5, Type: raft.LogConfiguration},
		cmd(6, 5, "\x04"),
		cmd(7, 6, "\x09"),
		{Index: 8, Type: raft.LogCommand, Data: []byte{0xff}}, // undecodable
		cmd(9, 5, "\x08"),
	}
	logs[0].Type = raft.LogCommand
	out := f.ApplyBatch(logs)
	if len(out) != len(logs) {
		t.Fatalf("%d results for %d logs", len(out), len(logs))
	}
	if _, ok := cat.DefaultAccount(); !ok {
		t.Fatal("catalog entry not applied")
	}
	want := map[int]string{1: "1", 2: "3", 5: "7", 6: "9", 8: "15"}
	for i, w := range want {
		if b, ok := out[i].([]byte); !ok || string(b) != w {
			t.Fatalf("result %d = %v, want %s", i, out[i], w)
		}
	}
	for _, i := range []int{3, 7} {
		if ResultError(out[i]) == nil {
			t.Fatalf("result %d = %v, want an error", i, out[i])
		}
	}
	if out[4] != nil {
		t.Fatalf("configuration entry result %v", out[4])
	}
	if fmt.Sprint(bm.runs) != "[3 1 1]" {
		t.Fatalf("runs %v, want [3 1 1]", bm.runs)
	}
	if f.AppliedIndex() != 9 {
		t.Fatalf("applied index %d, want 9", f.AppliedIndex())
	}
}
