package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestBootstrapExpectFromFlagEnvAndFile(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseOptions(nil, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := o.nodeConfig(); err != nil || cfg.BootstrapExpect != 1 {
		t.Fatalf("default: bootstrap-expect %d, err %v; want 1 (a lone node bootstraps)", cfg.BootstrapExpect, err)
	}
	o, err = parseOptions(nil, func(k string) string { return map[string]string{"EDGE_BOOTSTRAP_EXPECT": "3"}[k] }, io.Discard)
	if err != nil || o.bootstrapExpect != 3 {
		t.Fatalf("env: %d %v", o.bootstrapExpect, err)
	}
	file := filepath.Join(t.TempDir(), "edged.yaml")
	if err := os.WriteFile(file, []byte("bootstrap-expect: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err = parseOptions([]string{"--config", file}, none, io.Discard)
	if err != nil || o.bootstrapExpect != 5 {
		t.Fatalf("file: %d %v", o.bootstrapExpect, err)
	}
	o, err = parseOptions([]string{"--config", file, "--bootstrap-expect", "3"}, none, io.Discard)
	if err != nil || o.bootstrapExpect != 3 {
		t.Fatalf("flag over file: %d %v", o.bootstrapExpect, err)
	}
	o.bootstrapExpect = 10
	if _, err := o.nodeConfig(); err == nil {
		t.Fatal("bootstrap-expect 10 accepted")
	}
}
