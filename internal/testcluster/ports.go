package testcluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

// FreePort returns a loopback port that is free for both TCP and UDP (a
// gossip address needs both), picked at random below the kernel's
// ephemeral range. A port the kernel hands out for ":0" comes from that
// range, which every outgoing connection of every process on the machine
// also draws from: between finding one free and a node binding it, CI's
// parallel test processes took it now and then ("address already in use").
// Below the range only another test's random pick can collide.
func FreePort() (int, error) {
	low := ephemeralLow()
	for range 200 {
		port := minPort + rand.IntN(low-minPort)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = ln.Close()
		if err != nil {
			continue
		}
		_ = pc.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free tcp+udp port in [%d, %d) after 200 tries", minPort, low)
}

// minPort is the lowest port FreePort picks: above the well-known and
// most registered service ports.
const minPort = 10000

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default, 32768, when it cannot be read).
func ephemeralLow() int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var lo, hi int
		if n, _ := fmt.Sscan(string(b), &lo, &hi); n == 2 && lo > minPort+1000 {
			low = lo
		}
	}
	return low
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
