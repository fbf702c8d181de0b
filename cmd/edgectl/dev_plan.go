package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Default ports of edged, the same on every node of a dev cluster since
// each node has its own loopback address.
const (
	devHTTPPort   = 8787
	devGRPCPort   = 8788
	devRaftPort   = 8789
	devGossipPort = 7946
)

// maxDevNodes bounds the size of a dev cluster.
const maxDevNodes = 64

// devConfig describes the local cluster `edgectl dev up` starts.
type devConfig struct {
	// Nodes is how many edged processes to start.
	Nodes int
	// Regions are assigned to the nodes round-robin.
	Regions []string
	// Dir holds DIR/node-N (data), DIR/node-N.log and DIR/cluster.json;
	// it must be absolute once planned.
	Dir string
	// Voters is the number of Raft voters, passed to every node.
	Voters int
	// Global adds a simulated one-way Latency between regions.
	Global bool
	// Latency is the simulated one-way delay with Global.
	Latency time.Duration
	// BaseIP is node-1's address; node i listens on BaseIP+i.
	BaseIP string
	// LogFormat is edged's --log-format, text or json.
	LogFormat string
	// Token is the admin token every node gets in EDGE_ADMIN_TOKEN.
	Token string
	// Insecure starts the nodes without TLS and gossip key (plain HTTP).
	// Otherwise every node gets mutual TLS with its certificate in
	// DIR/tls, an HTTPS API and GossipKey (see dev_tls.go).
	Insecure bool
	// GossipKey (base64) is every node's EDGE_GOSSIP_KEY unless Insecure.
	GossipKey string
}

// defaultDevConfig returns the flags' defaults.
func defaultDevConfig() devConfig {
	return devConfig{
		Nodes:     3,
		Regions:   []string{"us-east", "eu-west", "ap-south"},
		Dir:       defaultDevDir,
		Voters:    3,
		Latency:   40 * time.Millisecond,
		BaseIP:    "127.0.0.1",
		LogFormat: "text",
	}
}

// Validate checks the configuration.
func (c devConfig) Validate() error {
	var errs []error
	if c.Nodes < 1 || c.Nodes > maxDevNodes {
		errs = append(errs, fmt.Errorf("--nodes %d: want 1 to %d", c.Nodes, maxDevNodes))
	}
	if len(c.Regions) == 0 {
		errs = append(errs, errors.New("--regions: at least one region"))
	}
	for _, r := range c.Regions {
		if r == "" || strings.ContainsAny(r, " \t\n=,") {
			errs = append(errs, fmt.Errorf("--regions: invalid region %q", r))
		}
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("--dir: empty"))
	}
	if c.Voters < 1 {
		errs = append(errs, fmt.Errorf("--voters %d: want at least 1", c.Voters))
	}
	if c.Global && c.Latency <= 0 {
		errs = append(errs, fmt.Errorf("--latency %v: must be positive with --global", c.Latency))
	}
	if ip, err := netip.ParseAddr(c.BaseIP); err != nil || !ip.Is4() {
		errs = append(errs, fmt.Errorf("--base-ip %q: want an IPv4 address", c.BaseIP))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("admin token: empty"))
	}
	if !c.Insecure && c.GossipKey == "" {
		errs = append(errs, errors.New("gossip key: empty (or --insecure)"))
	}
	return errors.Join(errs...)
}

// devNode is one planned edged process: where it listens and how to start it.
type devNode struct {
	ID         string
	Region     string
	IP         string
	HTTPAddr   string
	GRPCAddr   string
	RaftAddr   string
	GossipAddr string
	DataDir    string
	LogFile    string
	// Args is edged's argv without the program name.
	Args []string
	// Env is the process environment.
	Env []string
	// Scheme of the API: https, or http with --insecure.
	Scheme string
}

// Endpoint is the node's public API base URL.
func (n devNode) Endpoint() string { return n.Scheme + "://" + n.HTTPAddr }

// planNodes works out every node of the cluster: ids node-1.., regions
// round-robin, addresses BaseIP+i with the default ports, data and log
// paths under Dir, and argv and environment. The first min(Nodes, Voters)
// nodes found the cluster together with --bootstrap-expect and --join
// naming each other; later nodes join them (see formationArgs). The
// admin token goes in the environment, never in argv; baseEnv is inherited
// without its EDGE_* variables, so the caller's shell cannot override the
// plan through edged's environment-variable flags.
func planNodes(c devConfig, baseEnv []string) ([]devNode, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("dev cluster: %w", err)
	}
	if !filepath.IsAbs(c.Dir) {
		return nil, fmt.Errorf("dev cluster: dir %q is not absolute", c.Dir)
	}
	env := make([]string, 0, len(baseEnv)+1)
	for _, kv := range baseEnv {
		if !strings.HasPrefix(kv, "EDGE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "EDGE_ADMIN_TOKEN="+c.Token)
	scheme := "http"
	if !c.Insecure {
		env = append(env, "EDGE_GOSSIP_KEY="+c.GossipKey)
		scheme = "https"
	}

	ip := netip.MustParseAddr(c.BaseIP)
	nodes := make([]devNode, 0, c.Nodes)
	for i := range c.Nodes {
		if !ip.IsValid() || !ip.Is4() {
			return nil, fmt.Errorf("dev cluster: --base-ip %s leaves no address for node-%d", c.BaseIP, i+1)
		}
		host := ip.String()
		id := "node-" + strconv.Itoa(i+1)
		n := devNode{
			ID:         id,
			Region:     c.Regions[i%len(c.Regions)],
			IP:         host,
			HTTPAddr:   net.JoinHostPort(host, strconv.Itoa(devHTTPPort)),
			GRPCAddr:   net.JoinHostPort(host, strconv.Itoa(devGRPCPort)),
			RaftAddr:   net.JoinHostPort(host, strconv.Itoa(devRaftPort)),
			GossipAddr: net.JoinHostPort(host, strconv.Itoa(devGossipPort)),
			DataDir:    filepath.Join(c.Dir, id),
			LogFile:    filepath.Join(c.Dir, id+".log"),
			Env:        env,
			Scheme:     scheme,
		}
		n.Args = []string{
			"--node-id", n.ID,
			"--region", n.Region,
			"--data-dir", n.DataDir,
			"--http-addr", n.HTTPAddr,
			"--grpc-addr", n.GRPCAddr,
			"--raft-addr", n.RaftAddr,
			"--gossip-addr", n.GossipAddr,
			"--voters", strconv.Itoa(c.Voters),
			"--log-format", c.LogFormat,
		}
		n.Args = append(n.Args, formationArgs(c, i)...)
		if c.Global {
			n.Args = append(n.Args, "--region-latency", c.Latency.String())
		}
		if !c.Insecure {
			n.Args = append(n.Args, devTLSArgs(c.Dir, id)...)
		}
		nodes = append(nodes, n)
		ip = ip.Next()
	}
	return nodes, nil
}

// formationArgs are node i's --bootstrap-expect and --join. With two or
// more founders (the first min(Nodes, Voters) nodes) each founder gets
// --bootstrap-expect with that count and joins the other founders: Raft
// forms once they all see each other, all of them voters, whichever starts
// first. The nodes after them only join the founders and are added as
// non-voters (giving them --bootstrap-expect too could let one of them
// found a second cluster while it sees a different set of members). With
// a single founder, node-1 bootstraps alone and the others join it.
func formationArgs(c devConfig, i int) []string {
	founders := min(c.Nodes, c.Voters)
	ip := netip.MustParseAddr(c.BaseIP)
	var addrs []string
	for j := range founders {
		if j != i {
			addrs = append(addrs, net.JoinHostPort(ip.String(), strconv.Itoa(devGossipPort)))
		}
		ip = ip.Next()
	}
	switch {
	case founders < 2 && i == 0:
		return nil
	case founders < 2:
		return []string{"--join", addrs[0]}
	case i < founders:
		return []string{"--bootstrap-expect", strconv.Itoa(founders), "--join", strings.Join(addrs, ",")}
	default:
		return []string{"--join", strings.Join(addrs, ",")}
	}
}
