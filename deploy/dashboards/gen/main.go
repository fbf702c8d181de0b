// Command gen writes Edgeplane's Grafana dashboards as JSON:
//
//	go run ./deploy/dashboards/gen            # into deploy/grafana/dashboards
//	go run ./deploy/dashboards/gen -out DIR
//
// The JSON is committed; deploy/dashboards' tests fail when it is stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeplane/edgeplane/deploy/dashboards"
)

func main() {
	out := flag.String("out", filepath.Join("deploy", "grafana", "dashboards"), "directory to write the dashboards into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range dashboards.All() {
		b, err := dashboards.JSON(d)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, d.File)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", p)
	}
	return nil
}
