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

// WriterFunc is Writer with a last say on each record's level: adjust gets
// the parsed level and message and returns the level to log at (a
// library's ERROR about something the caller knows is expected).
func WriterFunc(log *slog.Logger, adjust func(slog.Level, string) slog.Level) io.Writer {
	return &writer{log: log, adjust: adjust}
}

type writer struct {
	log    *slog.Logger
	adjust func(slog.Level, string) slog.Level
}

func (w *writer) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		level, msg := parse(s)
		if level == slog.LevelError && shutdownNoise(msg) {
			level = slog.LevelDebug
		}
		if w.adjust != nil {
			level = w.adjust(level, msg)
		}
		w.log.Log(context.Background(), level, msg)
	}
	return len(p), nil
}

// shutdownNoise reports whether an error line only says that this
// process closed its own socket or transport, which the libraries log at
// ERROR when a goroutine of theirs was mid-send or mid-read as the node
// shut down (raft's "failed to decode incoming command: transport
// shutdown", memberlist's "Failed to send gossip ... use of closed network
// connection"). Nothing failed; these lines are kept at debug level.
// Errors about a peer's connection (reset, refused, timeout) stay errors.
func shutdownNoise(msg string) bool {
	return strings.Contains(msg, "use of closed network connection") ||
		strings.Contains(msg, `error="transport shutdown"`)
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
