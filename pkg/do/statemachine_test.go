package do

import (
	"testing"

	"github.com/edgeplane/edgeplane/pkg/do/lease"
)

// A node may register and renew only its own lease, and declare another
// node dead or forget a removed one only in its own name.
func TestValidateProposerTiesLeaseCommandsToTheirNode(t *testing.T) {
	m := &Module{}
	cases := []struct {
		c        lease.Command
		proposer string
		ok       bool
	}{
		{lease.Command{Op: lease.OpRenew, Node: "a", Epoch: 1, Now: 1, Expiration: 2, By: "a"}, "a", true},
		{lease.Command{Op: lease.OpRenew, Node: "a", Epoch: 1, Now: 1, Expiration: 2, By: "b"}, "b", false},
		{lease.Command{Op: lease.OpRegister, Node: "a", Now: 1, Expiration: 2, By: "a"}, "b", false},
		{lease.Command{Op: lease.OpIncrement, Node: "a", Epoch: 1, Now: 1, By: "b"}, "b", true},
		{lease.Command{Op: lease.OpIncrement, Node: "a", Epoch: 1, Now: 1, By: "c"}, "b", false},
		{lease.Command{Op: lease.OpForget, Node: "a", Epoch: 2, Now: 1, By: "b"}, "b", true},
		{lease.Command{Op: lease.OpForget, Node: "a", Epoch: 2, Now: 1, By: "c"}, "b", false},
		{lease.Command{Op: lease.OpForget, Node: "a", Now: 1, By: "b"}, "b", false},
	}
	for _, tc := range cases {
		err := m.ValidateCommand(tc.c.Encode(), tc.proposer)
		if (err == nil) != tc.ok {
			t.Errorf("%s of %s by %q proposed by %s: %v, want ok=%t", tc.c.Op, tc.c.Node, tc.c.By, tc.proposer, err, tc.ok)
		}
	}
}
