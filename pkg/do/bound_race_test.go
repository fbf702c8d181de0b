//go:build race

package do_test

import "time"

// failoverBound under the race detector, which slows every node of the
// 5-node chaos test several times over on a shared 2-core machine (CI
// measured 13 s once); without it the design's 10 s holds (bound_test.go).
const failoverBound = 20 * time.Second
