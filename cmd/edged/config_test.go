package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/d1"
)

func TestOptionPrecedenceFlagsEnvFileDefaults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "edged.yaml")
	if err := os.WriteFile(file, []byte("region: from-file\nvoters: 5\njoin: [10.0.0.1:7946, 10.0.0.2:7946]\nnode-id: file-node\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"EDGE_NODE_ID": "env-node", "EDGE_REGION_LATENCY": "40ms"}
	o, err := parseOptions([]string{"--config", file, "--voters", "1"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.voters != 1 {
		t.Errorf("flag should win: voters = %d", o.voters)
	}
	if o.nodeID != "env-node" {
		t.Errorf("env should beat file: node id = %q", o.nodeID)
	}
	if o.region != "from-file" {
		t.Errorf("file should beat default: region = %q", o.region)
	}
	if o.regionLatency != 40*time.Millisecond {
		t.Errorf("region latency = %v", o.regionLatency)
	}
	cfg, err := o.nodeConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Join) != 2 || cfg.Join[1] != "10.0.0.2:7946" {
		t.Errorf("join = %v", cfg.Join)
	}
	if o.httpAddr != "127.0.0.1:8787" || o.dataDir != "edged-data" {
		t.Errorf("defaults: http %q data %q", o.httpAddr, o.dataDir)
	}
}

func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("no-such-setting: 1\n"), 0o600)
	none := func(string) string { return "" }
	for name, args := range map[string][]string{
		"unknown file key": {"--config", bad},
		"missing file":     {"--config", filepath.Join(dir, "missing.yaml")},
		"stray argument":   {"extra"},
		"bad duration":     {"--region-latency", "soon"},
		"no import bytes":  {"--d1-max-import-bytes", "0"},
		"no query time":    {"--d1-query-timeout", "0s"},
		"query over 30s":   {"--d1-query-timeout", "30.001s"},
	} {
		if _, err := parseOptions(args, none, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	o, err := parseOptions([]string{"--gossip-key", "not-base64!"}, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.nodeConfig(); err == nil {
		t.Error("bad gossip key accepted")
	}
	o, _ = parseOptions([]string{"--gossip-key", "c2hvcnQ="}, none, io.Discard)
	if _, err := o.nodeConfig(); err == nil {
		t.Error("5-byte gossip key accepted")
	}
}

// The D1 settings a node may hold alone reach the service, at their edges.
func TestD1Options(t *testing.T) {
	env := map[string]string{"EDGE_D1_MAX_IMPORT_BYTES": "1"}
	o, err := parseOptions([]string{"--d1-query-timeout", "30s"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.d1MaxImportBytes != 1 || o.d1QueryTimeout != 30*time.Second {
		t.Errorf("d1 options %d %v", o.d1MaxImportBytes, o.d1QueryTimeout)
	}
	o, err = parseOptions(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.d1MaxImportBytes != d1.DefaultMaxImportBytes || o.d1QueryTimeout != d1.MaxQueryDuration {
		t.Errorf("d1 defaults %d %v", o.d1MaxImportBytes, o.d1QueryTimeout)
	}
}
