//go:build !race

package do_test

import "time"

// failoverBound is the failover the design promises: an object serves
// again within 10 s of losing its owner (one lease period of 6 s, the
// clock offset, then a Raft commit).
const failoverBound = 10 * time.Second
