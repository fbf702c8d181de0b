package node

import (
	"sync"
	"sync/atomic"
)

// faultState holds the first storage fault the node hit.
type faultState struct {
	once sync.Once
	err  atomic.Pointer[error]
}

// fatal records a fault the node cannot continue past (a write the disk
// refused, a damaged file, a data dir that belongs to another cluster):
// from then on the node reports not
// ready, and Config.OnFatal (the daemon) is told, once, so it can exit.
// It never blocks: storage calls it from its own goroutines.
func (n *Node) fatal(err error) {
	first := false
	n.fault.once.Do(func() {
		n.fault.err.Store(&err)
		first = true
	})
	if !first {
		n.log.Debug("further storage fault", "err", err)
		return
	}
	if n.cfg.OnFatal != nil {
		go n.cfg.OnFatal(err)
	}
	// Logged after OnFatal is on its way: the log may sit on the failed disk.
	n.log.Error("fatal fault: this node stops serving; fix the cause named here, then restart it", "err", err)
}

// Fault returns the storage fault that stopped the node, nil while healthy.
func (n *Node) Fault() error {
	if p := n.fault.err.Load(); p != nil {
		return *p
	}
	return nil
}
