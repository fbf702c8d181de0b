package logadapt

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestWriterMapsLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := Writer(log)
	_, _ = w.Write([]byte("2026/01/01 00:00:00 [WARN] memberlist: was slow\n[DEBUG] raft: hello\nplain line\n"))
	out := buf.String()
	for _, want := range []string{`level=WARN msg="memberlist: was slow"`, `level=DEBUG msg="raft: hello"`, `level=INFO msg="plain line"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
