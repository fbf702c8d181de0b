package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/d1"
	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/node"
	"github.com/edgeplane/edgeplane/pkg/services"
	"go.yaml.in/yaml/v3"
)

// options are edged's settings, from (lowest to highest precedence) the
// built-in defaults, the --config file, EDGE_* environment variables and
// command-line flags.
type options struct {
	configFile      string
	nodeID          string
	region          string
	dataDir         string
	httpAddr        string
	grpcAddr        string
	raftAddr        string
	gossipAddr      string
	advertiseAddr   string
	join            string
	bootstrapExpect int
	voters          int
	adminToken      string
	accountID       string
	gossipKey       string
	regionLatency   time.Duration
	deadServerGrace time.Duration
	logLevel        string
	logFormat       string
	pprofAddr       string
	accessLog       bool
	gcPercent       int
	gcPercentSet    bool // given as flag, EDGE_GC_PERCENT or in the config file
	showVersion     bool
	shutdownTimeout time.Duration
	tlsOptions      // tls.go
	// Limits of the public API and KV quotas.
	maxConns         int
	maxInFlight      int
	rateLimit        float64
	rateBurst        int
	bodyIdleTimeout  time.Duration
	requestTimeout   time.Duration
	kvMaxNamespaces  int
	kvNamespaceQuota int64
	// D1 settings a node may hold alone. The database size cap and the
	// write budget are not among them: every replica applies them to the
	// same writes, so they must be equal cluster-wide (d1.Options).
	d1MaxImportBytes int64
	d1QueryTimeout   time.Duration
}

func defaultNodeID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "node-1"
	}
	var b strings.Builder
	for _, r := range h {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "node-1"
	}
	return b.String()
}

func newFlagSet(o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("edged", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.configFile, "config", "", "YAML config file; keys are flag names (node-id: n1, join: [a:7946, b:7946])")
	fs.StringVar(&o.nodeID, "node-id", defaultNodeID(), "unique id of this node")
	fs.StringVar(&o.region, "region", node.DefaultRegion, "region this node runs in (voters are spread over regions)")
	fs.StringVar(&o.dataDir, "data-dir", node.DefaultDataDir, "directory for Raft log, snapshots and service data")
	fs.StringVar(&o.httpAddr, "http-addr", node.DefaultHTTPAddr, "public HTTP API (Cloudflare v4 shapes, /metrics, /healthz)")
	fs.StringVar(&o.grpcAddr, "grpc-addr", node.DefaultGRPCAddr, "internal gRPC, node to node")
	fs.StringVar(&o.raftAddr, "raft-addr", node.DefaultRaftAddr, "Raft transport")
	fs.StringVar(&o.gossipAddr, "gossip-addr", node.DefaultGossipAddr, "gossip (memberlist, TCP and UDP)")
	fs.StringVar(&o.advertiseAddr, "advertise-addr", "", "host or IP peers use to reach this node (needed when binding 0.0.0.0)")
	fs.StringVar(&o.join, "join", "", "comma-separated gossip addresses of other members; with --bootstrap-expect 1, empty starts a new cluster")
	fs.IntVar(&o.bootstrapExpect, "bootstrap-expect", 1, "a new cluster forms once this many nodes see each other, all of them voters (give every founding node the same value); 1: a node without --join bootstraps alone")
	fs.IntVar(&o.voters, "voters", node.DefaultVoters, "number of Raft voters the cluster keeps (others follow as non-voters)")
	fs.StringVar(&o.adminToken, "admin-token", "", "admin API token; generated and stored in the data dir when empty")
	fs.StringVar(&o.accountID, "account-id", "", "account served by default; generated on a new cluster when empty")
	fs.StringVar(&o.gossipKey, "gossip-key", "", "base64 key (16, 24 or 32 bytes) that encrypts gossip")
	fs.DurationVar(&o.regionLatency, "region-latency", 0, "simulated one-way delay added to traffic towards other regions (demos)")
	fs.DurationVar(&o.deadServerGrace, "dead-server-grace", 60*time.Second, "how long a failed node keeps its Raft seat before removal")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	fs.BoolVar(&o.accessLog, "access-log", false, "log every HTTP request at info level (otherwise only 5xx; all at --log-level debug)")
	fs.IntVar(&o.gcPercent, "gc-percent", defaultGCPercent, "Go GC target (as GOGC; a GOGC variable wins unless this is given): more heap, less CPU spent collecting")
	fs.StringVar(&o.pprofAddr, "pprof-addr", "", "serve Go's /debug/pprof profiles on this address (off when empty; keep it private)")
	fs.IntVar(&o.maxConns, "max-conns", node.DefaultMaxConns, "open public HTTP connections kept at most (-1: no cap)")
	fs.IntVar(&o.maxInFlight, "max-inflight", api.DefaultMaxInFlight, "HTTP requests served at once; beyond, 503 with Retry-After (-1: no cap)")
	fs.Float64Var(&o.rateLimit, "rate-limit", api.DefaultRatePerToken, "HTTP requests per second per API token; beyond, 429 with Retry-After (-1: no limit)")
	fs.IntVar(&o.rateBurst, "rate-burst", 0, "requests one token may send at once (0: two seconds at --rate-limit)")
	fs.DurationVar(&o.bodyIdleTimeout, "body-idle-timeout", api.DefaultBodyIdleTimeout, "a request body that sends nothing this long is answered 408")
	fs.DurationVar(&o.requestTimeout, "request-timeout", api.DefaultRequestTimeout, "base of a request's deadline (plus 1 s per MiB of the route's body limit)")
	fs.IntVar(&o.kvMaxNamespaces, "kv-max-namespaces", kv.DefaultMaxNamespacesPerAccount, "KV namespaces per account")
	fs.Int64Var(&o.kvNamespaceQuota, "kv-namespace-quota", kv.DefaultNamespaceQuotaBytes, "approximate bytes of keys, values and metadata one KV namespace may hold")
	fs.Int64Var(&o.d1MaxImportBytes, "d1-max-import-bytes", d1.DefaultMaxImportBytes, "bytes of one D1 import upload this node accepts")
	fs.DurationVar(&o.d1QueryTimeout, "d1-query-timeout", d1.MaxQueryDuration, "a D1 read on this node is cancelled after this long (at most 30s)")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout,
		"on SIGTERM, how long a graceful leave may take before edged exits anyway (a second signal exits at once)")
	addTLSFlags(fs, &o.tlsOptions)
	return fs
}

// parseOptions applies flags, then fills every flag not given on the
// command line from the environment (EDGE_NODE_ID for --node-id) or the
// config file.
func parseOptions(args []string, getenv func(string) string, out io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(o, out)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.shutdownTimeout <= 0 {
		return nil, fmt.Errorf("--shutdown-timeout %v: must be positive", o.shutdownTimeout)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["config"] {
		if v := getenv("EDGE_CONFIG"); v != "" {
			o.configFile = v
		}
	}
	file := map[string]any{}
	if o.configFile != "" {
		b, err := os.ReadFile(o.configFile)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			return nil, fmt.Errorf("config file %s: %w", o.configFile, err)
		}
		for k := range file {
			if fs.Lookup(k) == nil || k == "config" {
				return nil, fmt.Errorf("config file %s: unknown setting %q", o.configFile, k)
			}
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" {
			return
		}
		env := "EDGE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			if err := fs.Set(f.Name, yamlValue(v)); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %s: %w", o.configFile, f.Name, err))
			}
		}
	})
	o.gcPercentSet = set["gc-percent"] || getenv("EDGE_GC_PERCENT") != "" || file["gc-percent"] != nil
	if o.d1MaxImportBytes <= 0 {
		errs = append(errs, fmt.Errorf("--d1-max-import-bytes %d: must be positive", o.d1MaxImportBytes))
	}
	if o.d1QueryTimeout <= 0 || o.d1QueryTimeout > d1.MaxQueryDuration {
		errs = append(errs, fmt.Errorf("--d1-query-timeout %v: must be above 0 and at most %v", o.d1QueryTimeout, d1.MaxQueryDuration))
	}
	return o, errors.Join(errs...)
}

// yamlValue renders a YAML scalar or list as the flag string form.
func yamlValue(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// nodeConfig turns options into the node's configuration.
func (o *options) nodeConfig() (node.Config, error) {
	cfg := node.Config{
		NodeID: o.nodeID, Region: o.region, DataDir: o.dataDir,
		HTTPAddr: o.httpAddr, GRPCAddr: o.grpcAddr, RaftAddr: o.raftAddr, GossipAddr: o.gossipAddr,
		AdvertiseAddr: o.advertiseAddr, Voters: o.voters, AdminToken: o.adminToken, BootstrapExpect: o.bootstrapExpect,
		AccountID: o.accountID, RegionLatency: o.regionLatency, AccessLog: o.accessLog,
		Timing: node.Timing{DeadServerGrace: o.deadServerGrace},
		Services: services.Builtin(services.Options{
			KV: kv.Options{MaxNamespacesPerAccount: o.kvMaxNamespaces, NamespaceQuotaBytes: o.kvNamespaceQuota},
			D1: d1.Options{MaxImportBytes: o.d1MaxImportBytes, QueryTimeout: o.d1QueryTimeout},
		}),
		MaxConns: o.maxConns,
		HTTPLimits: api.Limits{
			MaxInFlight: o.maxInFlight, RatePerToken: o.rateLimit, RateBurst: o.rateBurst,
			BodyIdleTimeout: o.bodyIdleTimeout, RequestTimeout: o.requestTimeout,
		},
	}
	for _, j := range strings.Split(o.join, ",") {
		if j = strings.TrimSpace(j); j != "" {
			cfg.Join = append(cfg.Join, j)
		}
	}
	if o.gossipKey != "" {
		k, err := base64.StdEncoding.DecodeString(o.gossipKey)
		if err != nil {
			return cfg, fmt.Errorf("--gossip-key: not base64: %w", err)
		}
		cfg.GossipKey = k
	}
	if err := o.tlsOptions.apply(&cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}
