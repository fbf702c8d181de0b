// Package logadapt routes the line-oriented loggers of third-party libraries
// (memberlist's *log.Logger, raft's hclog) into log/slog, mapping the
// "[LEVEL]" tag that those libraries print to an slog level.
package logadapt

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
)

// Writer returns an io.Writer that turns each written line into one slog
// record on log. Lines tagged [TRACE] and [DEBUG] become Debug, [WARN] and
// [WARNING] Warn, [ERR] and [ERROR] Error, anything else Info.
func Writer(log *slog.Logger) io.Writer {
	return &writer{log: log}
}

type writer struct {
	log *slog.Logger
}

func (w *writer) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		level, msg := parse(s)
		w.log.Log(context.Background(), level, msg)
	}
	return len(p), nil
}

// parse finds the level tag in a library log line and returns the level and
// the message that follows it (timestamps before the tag are dropped).
func parse(s string) (slog.Level, string) {
	tags := []struct {
		tag   string
		level slog.Level
	}{
		{"[TRACE]", slog.LevelDebug}, {"[DEBUG]", slog.LevelDebug},
		{"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn},
		{"[WARNING]", slog.LevelWarn}, {"[ERR]", slog.LevelError},
		{"[ERROR]", slog.LevelError},
	}
	for _, t := range tags {
		if i := strings.Index(s, t.tag); i >= 0 {
			return t.level, strings.TrimSpace(s[i+len(t.tag):])
		}
	}
	return slog.LevelInfo, s
}
