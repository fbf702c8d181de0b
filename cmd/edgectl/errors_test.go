package main

import (
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestUnreachableEndpointIsOneLineError(t *testing.T) {
	for _, cmd := range []string{"members", "status"} {
		t.Run(cmd, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, nil, cmd, "--endpoint", deadEndpoint(t))
			assertOneLineError(t, stdout, stderr, code)
		})
	}
}

func TestAllEndpointsDeadIsOneLineError(t *testing.T) {
	eps := deadEndpoint(t) + "," + deadEndpoint(t)
	stdout, stderr, code := runCLI(t, nil, "members", "--endpoint", eps)
	assertOneLineError(t, stdout, stderr, code)
	if !strings.Contains(stderr, "no reachable endpoint") {
		t.Fatalf("stderr %q does not say no endpoint is reachable", stderr)
	}
}

func TestServerErrorIsOneLineError(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0, nil, wire.Status{})
	stdout, stderr, code := runCLI(t, nil, "members", "--endpoint", f.srv.URL, "--token", "wrong")
	assertOneLineError(t, stdout, stderr, code)
	if want := "edgectl: members: HTTP 401: Authentication error (10000) (the token was refused: check EDGE_TOKEN or --token"; !strings.HasPrefix(stderr, want) {
		t.Fatalf("stderr = %q, want it to start %q", stderr, want)
	}
}

func TestMissingTokenNamesEdgeToken(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0, nil, wire.Status{})
	stdout, stderr, code := runCLI(t, nil, "members", "--endpoint", f.srv.URL)
	assertOneLineError(t, stdout, stderr, code)
	for _, want := range []string{"HTTP 401", "no token given", "EDGE_TOKEN", "--token"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("stderr %q does not say %q", stderr, want)
		}
	}
}

func TestBadFlagsAreOneLineErrors(t *testing.T) {
	cases := [][]string{
		{"members", "-o", "yaml"},
		{"members", "--timeout", "0s"},
		{"members", "--no-such-flag"},
		{"no-such-command"},
		{"members", "extra-arg"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := runCLI(t, nil, args...)
			assertOneLineError(t, stdout, stderr, code)
		})
	}
}
