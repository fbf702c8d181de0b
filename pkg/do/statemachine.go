package do

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/edgeplane/edgeplane/pkg/do/lease"
)

// CommandType is Durable Objects' command type in the Raft log
// (service.StateMachine): liveness leases. Released: never change it.
const CommandType uint8 = 3

// CommandType implements service.StateMachine.
func (m *Module) CommandType() uint8 { return CommandType }

// ValidateCommand implements service.StateMachine: a well-formed liveness
// command, which a node proposes only for its own lease (register, renew)
// or in its own name (declaring another node dead, forgetting a removed
// one), so no member can renew or end another's leases.
func (m *Module) ValidateCommand(payload []byte, proposer string) error {
	c, err := lease.DecodeCommand(payload)
	if err != nil {
		return err
	}
	onOther := c.Op == lease.OpIncrement || c.Op == lease.OpForget
	switch {
	case onOther && c.By != proposer:
		return fmt.Errorf("lease command: %s proposes %s of %s in the name of %q", proposer, c.Op, c.Node, c.By)
	case !onOther && c.Node != proposer:
		return fmt.Errorf("lease command: %s cannot %s the lease of %s", proposer, c.Op, c.Node)
	}
	return nil
}

// ApplyCommand implements service.StateMachine: one liveness command,
// applied by the table's deterministic rules. A refused renewal or
// increment is a result (accepted: false), not an error.
func (m *Module) ApplyCommand(_ uint64, payload []byte) ([]byte, error) {
	c, err := lease.DecodeCommand(payload)
	if err != nil {
		return nil, err
	}
	res := m.table.Apply(c)
	if res.Accepted && c.Op == lease.OpIncrement {
		m.log.Info("node declared dead", "node", c.Node, "by", c.By, "new_epoch", res.Record.Epoch)
	}
	if res.Accepted && c.Op == lease.OpForget {
		m.log.Info("lease record of a removed node forgotten", "node", c.Node, "by", c.By, "epoch", c.Epoch)
	}
	return json.Marshal(res)
}

// Snapshot implements service.StateMachine: the liveness table.
func (m *Module) Snapshot(w io.Writer) error { return m.table.Snapshot(w) }

// Restore implements service.StateMachine.
func (m *Module) Restore(r io.Reader) error { return m.table.Restore(r) }
