package testcluster

import (
	"fmt"
	"net"
)

// FreePort finds a port free for both TCP and UDP on 127.0.0.1 (gossip
// needs both on one number). Tests that start real edged processes use it
// too.
func FreePort() (int, error) {
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = ln.Close()
		if err != nil {
			continue
		}
		_ = pc.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free tcp+udp port after 50 tries")
}

// addrs is one node's fixed set of listen addresses, kept across restarts
// (Raft knows its peers by address).
type addrs struct {
	http, grpc, raft, gossip string
}

func allocAddrs() (addrs, error) {
	var ports [4]int
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			return addrs{}, err
		}
		ports[i] = p
	}
	f := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	return addrs{http: f(ports[0]), grpc: f(ports[1]), raft: f(ports[2]), gossip: f(ports[3])}, nil
}
