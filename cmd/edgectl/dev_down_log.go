package main

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// maxStopLog bounds how much of a node's log written during its stop is
// read.
const maxStopLog = 1 << 20

// logSize is the current size of a log file, 0 when it cannot be read.
func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// exitError returns the error edged printed as it exited ("edged: ..."),
// or the first ERROR record, among what path got after offset from; ""
// when the stop was clean (or the log cannot be read).
func exitError(path string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return ""
	}
	sc := bufio.NewScanner(io.LimitReader(f, maxStopLog))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	firstError := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "edged: ") {
			return line
		}
		if firstError == "" && (strings.Contains(line, "level=ERROR") || strings.Contains(line, `"level":"ERROR"`)) {
			firstError = line
		}
	}
	return firstError
}
