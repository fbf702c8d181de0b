package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"
)

// TestGCPercent: the flag's default applies unless GOGC is set; a given
// flag beats GOGC; below -1 is refused.
func TestGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	log := slog.New(slog.DiscardHandler)
	current := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }

	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
	}{
		{nil, nil, defaultGCPercent},
		{nil, map[string]string{"GOGC": "150"}, 100}, // left as the runtime set it
		{[]string{"--gc-percent", "250"}, map[string]string{"GOGC": "150"}, 250},
		{nil, map[string]string{"GOGC": "150", "EDGE_GC_PERCENT": "300"}, 300},
	} {
		debug.SetGCPercent(100)
		getenv := func(k string) string { return tc.env[k] }
		o, err := parseOptions(tc.args, getenv, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if err := applyGCPercent(o, getenv, log); err != nil {
			t.Fatal(err)
		}
		if got := current(); got != tc.want {
			t.Errorf("args %v env %v: gc percent %d, want %d", tc.args, tc.env, got, tc.want)
		}
	}
	o, err := parseOptions([]string{"--gc-percent", "-2"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyGCPercent(o, func(string) string { return "" }, log); err == nil {
		t.Fatal("--gc-percent -2 accepted")
	}
}
