package d1

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks of D1 on one node through its HTTP handler, the command
// encoding and the apply path (no Raft: see BenchmarkClusterInsert for
// that), beside the same work on a plain SQLite file with the same
// journal and synchronous settings. Run:
//
//	go test -run XXX -bench . -benchtime 2000x ./pkg/d1/

// target is what the benchmarks drive: a D1 database or a plain file.
type target struct {
	exec func(sql string, args ...any) error
}

func d1Target(b *testing.B) target {
	te := newTestEnv(b, Options{})
	id := te.create("bench")
	te.sql(id, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
	return target{exec: func(s string, args ...any) error {
		body := fmt.Sprintf(`{"sql":%q,"params":[%s]}`, s, joinArgs(args))
		w := te.do(http.MethodPost, dbsPath+"/"+id+"/query", body)
		if w.Code != http.StatusOK {
			return fmt.Errorf("%d %s", w.Code, w.Body)
		}
		return nil
	}}
}

func joinArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch x := a.(type) {
		case string:
			parts[i] = fmt.Sprintf("%q", x)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, ",")
}

func plainTarget(b *testing.B) target {
	db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "plain.sqlite")+"?_pragma=journal_mode("+journalMode+")&_pragma=synchronous("+synchronous+")&_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(16)
	if _, err := db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		b.Fatal(err)
	}
	var wmu sync.Mutex // one writer, as D1's apply loop
	return target{exec: func(s string, args ...any) error {
		if !strings.HasPrefix(s, "SELECT") {
			wmu.Lock()
			defer wmu.Unlock()
		}
		rows, err := db.Query(s, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		return rows.Close()
	}}
}

func benchTargets(b *testing.B, run func(b *testing.B, tg target)) {
	b.Run("d1", func(b *testing.B) { run(b, d1Target(b)) })
	b.Run("sqlite", func(b *testing.B) { run(b, plainTarget(b)) })
}

func BenchmarkInsert(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			if err := tg.exec("INSERT INTO t(v) VALUES (?)", fmt.Sprint("v", i)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
	})
}

func BenchmarkInsert16Clients(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		b.SetParallelism(8) // 16 goroutines on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := tg.exec("INSERT INTO t(v) VALUES (?)", "x"); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
	})
}

func BenchmarkBatch100(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		stmt := "INSERT INTO t(v) VALUES " + strings.TrimSuffix(strings.Repeat("(?),", 100), ",")
		args := make([]any, 100)
		for i := range args {
			args[i] = fmt.Sprint("row", i)
		}
		b.ResetTimer()
		for range b.N {
			if err := tg.exec(stmt, args...); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "rows/s")
	})
}

func BenchmarkPointSelect(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		stmt := "INSERT INTO t(v) VALUES " + strings.TrimSuffix(strings.Repeat("('x'),", 100), ",")
		for range 10 {
			if err := tg.exec(stmt); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if err := tg.exec("SELECT v FROM t WHERE id = ?", i%1000+1); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "selects/s")
	})
}
