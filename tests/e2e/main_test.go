package e2e

import (
	"os"
	"testing"
)

// TestMain keeps edgectl from remembering endpoint choices across tests
// (a choice made for one test's cluster would steer another test that
// reuses its addresses); the test of the memory itself turns it on with a
// private cache directory.
func TestMain(m *testing.M) {
	os.Setenv("EDGE_NO_ENDPOINT_MEMORY", "1")
	os.Exit(m.Run())
}
