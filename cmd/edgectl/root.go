package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// defaultEndpoint is where edgectl looks for edged when neither
// --endpoint nor EDGE_ENDPOINT says otherwise.
const defaultEndpoint = "http://127.0.0.1:8787"

// defaultTimeout bounds each call to the cluster.
const defaultTimeout = 10 * time.Second

// env is what edgectl takes from its process: output streams, environment
// and build version. Tests supply their own.
type env struct {
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	environ func() []string
	version string
}

// app holds the global flags shared by every command.
type app struct {
	env
	endpoints string
	token     string
	output    string
	timeout   time.Duration
	caCert    string // --ca-cert (tls_client.go)
}

// run executes edgectl with args and returns the process exit code. Errors
// are printed as one line on stderr.
func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(e.stderr, "edgectl: %s\n", a.withHint(err))
		return 1
	}
	return 0
}

// newRootCmd builds the command tree.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "edgectl",
		Short:         "Operate an Edgeplane cluster",
		Long:          "edgectl talks to the public API of edged nodes and runs local development clusters.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return a.validate()
		},
	}
	endpoint := a.getenv("EDGE_ENDPOINT")
	if endpoint == "" {
		endpoint = defaultEndpoint
	}
	f := root.PersistentFlags()
	f.StringVar(&a.endpoints, "endpoint", endpoint,
		"edged base URL(s), comma-separated; the nearest reachable one is used (env EDGE_ENDPOINT)")
	f.StringVar(&a.token, "token", a.getenv("EDGE_TOKEN"), "API token (env EDGE_TOKEN)")
	f.StringVar(&a.caCert, "ca-cert", a.getenv("EDGE_CA_CERT"), "CA certificate (PEM) to trust for https:// endpoints, e.g. the cluster CA (env EDGE_CA_CERT)")
	f.StringVarP(&a.output, "output", "o", outputTable, "output format: table or json")
	f.DurationVar(&a.timeout, "timeout", defaultTimeout, "bound on each call to the cluster")
	root.AddCommand(
		newMembersCmd(a),
		newStatusCmd(a),
		newNearestCmd(a),
		newVersionCmd(a),
		newDevCmd(a),
		newKVCmd(a),
		newD1Cmd(a),
		newDOCmd(a),
		newBenchCmd(a),
		newTLSCmd(a),
		newLagCmd(a),
		newTopCmd(a),
		newTokenCmd(a),
		newAccountCmd(a),
	)
	return root
}

// validate checks the global flags.
func (a *app) validate() error {
	if a.output != outputTable && a.output != outputJSON {
		return fmt.Errorf("invalid -o %q: want table or json", a.output)
	}
	if a.timeout <= 0 {
		return fmt.Errorf("invalid --timeout %v: must be positive", a.timeout)
	}
	return nil
}

// client makes an API client for the --endpoint list and --token.
func (a *app) client() (*client.Client, error) {
	opts := []client.Option{client.WithTimeout(a.timeout)}
	// Remember the endpoint picked for this --endpoint list, so the next
	// command reaches the same node (EDGE_NO_ENDPOINT_MEMORY=1 turns it off).
	if dir, err := os.UserCacheDir(); err == nil && os.Getenv("EDGE_NO_ENDPOINT_MEMORY") == "" {
		opts = append(opts, client.WithChoiceFile(filepath.Join(dir, "edgectl")))
	}
	if a.caCert != "" {
		opts = append(opts, client.WithCACert(a.caCert))
	}
	c, err := client.New(client.SplitEndpoints(a.endpoints), a.token, opts...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// httpClient is a plain HTTP client bounded by --timeout, for probes.
// It trusts --ca-cert when given (an unreadable file shows up as TLS
// errors of the probes).
func (a *app) httpClient() *http.Client {
	hc := &http.Client{Timeout: a.timeout}
	_ = a.trustCA(hc)
	return hc
}

// jsonOutput reports whether -o json was asked for.
func (a *app) jsonOutput() bool { return a.output == outputJSON }

// oneLine folds line breaks so that an error prints on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// withTimeout bounds ctx by --timeout.
func (a *app) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.timeout)
}
