package logadapt

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestShutdownNoiseIsDebug(t *testing.T) {
	var buf bytes.Buffer
	w := Writer(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	lines := []string{
		`2026-11-29T14:48:31.273Z [ERROR] raft.transport: failed to decode incoming command: error="transport shutdown"`,
		`2026/11/29 14:48:31 [ERR] memberlist: Failed to send gossip to 127.0.0.61:7946: write udp 127.0.0.62:7946->127.0.0.61:7946: use of closed network connection`,
		`2026/11/29 14:48:31 [ERR] memberlist: Failed to send UDP ping: write udp 127.0.0.63:7946->127.0.0.61:7946: use of closed network connection`,
		`2026/11/29 14:48:31 [ERR] memberlist: Failed to send gossip to 127.0.0.61:7946: write udp: connection refused`,
	}
	for _, l := range lines {
		_, _ = w.Write([]byte(l + "\n"))
	}
	out := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(out) != 4 {
		t.Fatalf("%d records: %q", len(out), buf.String())
	}
	for _, l := range out[:3] {
		if !strings.Contains(l, "level=DEBUG") {
			t.Errorf("shutdown noise not at debug: %s", l)
		}
	}
	if !strings.Contains(out[3], "level=ERROR") {
		t.Errorf("a genuine error lost its level: %s", out[3])
	}
}
