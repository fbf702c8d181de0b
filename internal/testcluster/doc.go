// Package testcluster starts several Edgeplane nodes inside one test
// process, on ephemeral 127.0.0.1 ports, each in a region, and injects
// faults between them: kill (a crash), graceful stop, restart on the same
// data directory and ports, isolation of a node, a split of the cluster in
// two, and latency between regions. Every gossip, Raft and gRPC connection
// between the nodes goes through a shared pkg/netfault rule table, so a
// partition cuts all three, in both directions.
//
//	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Regions: []string{"us", "eu", "ap"}})
//	c.Kill(1)
//	c.WaitFor("node-2 failed", 10*time.Second, func() bool { ... })
//	c.Restart(1)
//
// Waits poll a condition with a deadline; nothing sleeps for correctness.
package testcluster
