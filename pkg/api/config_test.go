package api

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestConfigValidate(t *testing.T) {
	good := []Config{{NodeID: "n1"}, {NodeID: "n1", MaxBodyBytes: 10, AdminToken: "t", Version: "1"}}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := []Config{{}, {NodeID: "has space"}, {NodeID: strings.Repeat("n", 129)}, {NodeID: "n", MaxBodyBytes: -1},
		{NodeID: "n", AdminToken: strings.Repeat("t", maxTokenLen+1)}}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{NodeID: "n"}.withDefaults()
	if c.MaxBodyBytes != DefaultMaxBodyBytes || c.Version != DefaultVersion {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := Config{NodeID: "n"}
	if _, err := New(Config{}, &fakeCluster{}, &fakeIdentity{}, reg, reg, nil); err == nil {
		t.Error("New accepted an invalid config")
	}
	if _, err := New(cfg, nil, &fakeIdentity{}, reg, reg, nil); err == nil {
		t.Error("New accepted a nil cluster")
	}
	if _, err := New(cfg, &fakeCluster{}, nil, reg, reg, nil); err == nil {
		t.Error("New accepted a nil identity")
	}
	if _, err := New(cfg, &fakeCluster{}, &fakeIdentity{}, nil, reg, nil); err == nil {
		t.Error("New accepted a nil registerer")
	}
	if _, err := New(cfg, &fakeCluster{}, &fakeIdentity{}, reg, nil, nil); err == nil {
		t.Error("New accepted a nil gatherer")
	}
}
