package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// benchDOConfig holds the flags of `bench do`.
type benchDOConfig struct {
	duration    time.Duration
	concurrency int
	objects     int
	sockets     int
	messages    int
	account     string
	keep        bool
}

// validate checks the flags.
func (c benchDOConfig) validate() error {
	switch {
	case c.duration <= 0 || c.duration > time.Hour:
		return errors.New("bench do: --duration must be positive and at most 1h")
	case c.concurrency < 1 || c.concurrency > 1024:
		return errors.New("bench do: --concurrency must be 1..1024")
	case c.objects < 1 || c.objects > 1_000_000:
		return errors.New("bench do: --objects must be 1..1000000")
	case c.sockets < 0 || c.sockets > 10_000:
		return errors.New("bench do: --sockets must be 0..10000")
	case c.messages < 1 || c.messages > 10_000:
		return errors.New("bench do: --messages must be 1..10000")
	}
	return nil
}

// benchDOPhase is the result of one request phase.
type benchDOPhase struct {
	Name        string  `json:"name"`
	Objects     int     `json:"objects"`
	Concurrency int     `json:"concurrency"`
	Requests    uint64  `json:"requests"`
	Errors      uint64  `json:"errors"`
	PerSecond   float64 `json:"requests_per_second"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
}

// benchDOForward compares a request sent to the owner with one sent to
// another node (forwarded one hop).
type benchDOForward struct {
	Owner      string       `json:"owner"`
	Via        string       `json:"via"`
	Local      benchDOPhase `json:"local"`
	Forwarded  benchDOPhase `json:"forwarded"`
	AddedP50ms float64      `json:"added_p50_ms"`
	AddedP99ms float64      `json:"added_p99_ms"`
}

// benchDOBroadcast is the fan-out latency of WebSocket broadcasts.
type benchDOBroadcast struct {
	Sockets   int     `json:"sockets"`
	Messages  int     `json:"messages"`
	Expected  uint64  `json:"expected_deliveries"`
	Delivered uint64  `json:"delivered"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// benchDOReport is what `bench do` prints.
type benchDOReport struct {
	Endpoints  []string          `json:"endpoints"`
	Namespace  string            `json:"namespace"`
	Serialized benchDOPhase      `json:"serialized_one_object"`
	Aggregate  benchDOPhase      `json:"aggregate_many_objects"`
	Forward    *benchDOForward   `json:"forwarding,omitempty"`
	Broadcast  *benchDOBroadcast `json:"broadcast,omitempty"`
	Notes      []string          `json:"notes,omitempty"`
}

// newBenchDOCmd is `edgectl bench do`.
func newBenchDOCmd(a *app) *cobra.Command {
	cfg := benchDOConfig{}
	cmd := &cobra.Command{
		Use:   "do",
		Short: "Durable Objects: serialized and aggregate request rates, forwarding cost, broadcast latency",
		Long: "Measures, in a scratch namespace: incr requests per second to one object (serialized by its " +
			"input gate) and across --objects objects; the added latency of a request sent to a node that is " +
			"not the object's owner (forwarded one hop) against one sent to the owner (needs two or more " +
			"--endpoint URLs); and the delivery latency of WebSocket broadcasts to --sockets sockets spread " +
			"over the endpoints.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.validate(); err != nil {
				return err
			}
			rep, err := runBenchDO(cmd.Context(), a, cfg)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return writeJSON(a.stdout, rep)
			}
			return printBenchDO(a, rep)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each request phase")
	f.IntVar(&cfg.concurrency, "concurrency", 32, "concurrent requests in the request phases")
	f.IntVar(&cfg.objects, "objects", 1000, "objects of the aggregate phase")
	f.IntVar(&cfg.sockets, "sockets", 1000, "WebSockets of the broadcast phase (0 skips it)")
	f.IntVar(&cfg.messages, "messages", 50, "broadcasts sent in the broadcast phase")
	f.StringVar(&cfg.account, "account", "", "account id (default: the cluster's, from status)")
	f.BoolVar(&cfg.keep, "keep", false, "keep the scratch namespace")
	return cmd
}

// benchDOEnv is the clients of one run: one DO API per endpoint.
type benchDOEnv struct {
	endpoints []string
	apis      []*client.DO
	ns        string
	token     string
	hc        *http.Client // for WebSocket dials
}

// runBenchDO runs every phase.
func runBenchDO(ctx context.Context, a *app, cfg benchDOConfig) (benchDOReport, error) {
	eps := client.SplitEndpoints(a.endpoints)
	hc := newBenchHTTPClient(cfg.concurrency*2, 30*time.Second)
	if err := a.trustCA(hc); err != nil {
		return benchDOReport{}, err
	}
	// WebSockets get their own transport: a hijacked connection still
	// counts against the request client's per-host connection cap.
	wsHC := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if err := a.trustCA(wsHC); err != nil {
		return benchDOReport{}, err
	}
	env := &benchDOEnv{endpoints: eps, token: a.token, hc: wsHC}
	acc := cfg.account
	for _, ep := range eps {
		c, err := client.New([]string{ep}, a.token, client.WithHTTPClient(hc))
		if err != nil {
			return benchDOReport{}, fmt.Errorf("bench do: %w", err)
		}
		if acc == "" {
			if acc, err = c.AccountID(ctx); err != nil {
				return benchDOReport{}, err
			}
		}
		env.apis = append(env.apis, c.DO(acc))
	}
	ns, err := env.createNamespace(ctx)
	if err != nil {
		return benchDOReport{}, err
	}
	env.ns = ns.ID
	if !cfg.keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = env.apis[0].DeleteNamespace(dctx, ns.ID)
		}()
	}
	rep := benchDOReport{Endpoints: eps, Namespace: ns.ID}
	if err := env.warm(ctx, client.ByName("serial")); err != nil {
		return rep, err
	}
	rep.Serialized = env.phase(ctx, "serialized", 1, cfg.concurrency, cfg.duration, env.apis)
	rep.Aggregate = env.phase(ctx, "aggregate", cfg.objects, cfg.concurrency, cfg.duration, env.apis)
	if len(eps) > 1 {
		fw, err := env.forwarding(ctx, cfg.duration)
		if err != nil {
			return rep, err
		}
		rep.Forward = fw
	} else {
		rep.Notes = append(rep.Notes, "forwarding cost skipped: give two or more --endpoint URLs")
	}
	if cfg.sockets > 0 {
		bc, err := env.broadcast(ctx, cfg.sockets, cfg.messages)
		if err != nil {
			return rep, err
		}
		rep.Broadcast = bc
	}
	return rep, nil
}

// createNamespace creates the scratch namespace, retrying while the
// cluster answers 503 (it is still settling) for up to a minute.
func (e *benchDOEnv) createNamespace(ctx context.Context) (client.DONamespace, error) {
	name := "bench-do-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	deadline := time.Now().Add(time.Minute)
	for {
		ns, err := e.apis[0].CreateNamespace(ctx, client.DONamespaceCreate{Name: name})
		var apiErr *client.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return ns, err
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// warm waits until object o answers (the nodes hold their leases).
func (e *benchDOEnv) warm(ctx context.Context, o client.ObjectRef) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := e.apis[0].Incr(ctx, e.ns, o, "warm", 1)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bench do: the cluster does not serve objects: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// phase sends incr requests for d from workers, each to a random one of
// objects objects, through the APIs in turn.
func (e *benchDOEnv) phase(ctx context.Context, name string, objects, workers int, d time.Duration, apis []*client.DO) benchDOPhase {
	var wg sync.WaitGroup
	hists := make([]latencyHist, workers)
	var errs atomic.Uint64
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api := apis[w%len(apis)]
			for time.Now().Before(stop) && ctx.Err() == nil {
				o := client.ByName("serial")
				if objects > 1 {
					o = client.ByName("obj-" + strconv.Itoa(rand.IntN(objects)))
				}
				t0 := time.Now()
				if _, err := api.Incr(ctx, e.ns, o, "n", 1); err != nil {
					errs.Add(1)
					continue
				}
				hists[w].record(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return summarize(name, objects, workers, hists, errs.Load(), time.Since(start))
}

// summarize merges worker histograms into a phase result.
func summarize(name string, objects, workers int, hists []latencyHist, errs uint64, elapsed time.Duration) benchDOPhase {
	var all latencyHist
	for i := range hists {
		all.merge(&hists[i])
	}
	return benchDOPhase{Name: name, Objects: objects, Concurrency: workers, Requests: all.n, Errors: errs,
		PerSecond: float64(all.n) / elapsed.Seconds(), P50ms: ms(all.quantile(0.5)), P99ms: ms(all.quantile(0.99)), MaxMs: ms(all.max)}
}

// forwarding measures one sequential client against the owner, then
// against another node.
func (e *benchDOEnv) forwarding(ctx context.Context, d time.Duration) (*benchDOForward, error) {
	o := client.ByName("forward")
	if err := e.warm(ctx, o); err != nil {
		return nil, err
	}
	local, remote := -1, -1
	var owner, via string
	for i, api := range e.apis {
		w, err := api.Where(ctx, e.ns, o)
		if err != nil {
			return nil, err
		}
		if w.ServedBy == w.Owner && local < 0 {
			local, owner = i, w.Owner
		} else if w.ServedBy != w.Owner && remote < 0 {
			remote, via = i, w.ServedBy
		}
	}
	if local < 0 || remote < 0 {
		return nil, errors.New("bench do: the endpoints do not include both the owner of the test object and another node")
	}
	half := d / 2
	one := func(name string, i int) benchDOPhase {
		h := make([]latencyHist, 1)
		var errs uint64
		stop := time.Now().Add(half)
		start := time.Now()
		for time.Now().Before(stop) && ctx.Err() == nil {
			t0 := time.Now()
			if _, err := e.apis[i].Incr(ctx, e.ns, o, "n", 1); err != nil {
				errs++
				continue
			}
			h[0].record(time.Since(t0))
		}
		return summarize(name, 1, 1, h, errs, time.Since(start))
	}
	fw := &benchDOForward{Owner: owner, Via: via, Local: one("to owner", local), Forwarded: one("forwarded", remote)}
	fw.AddedP50ms = fw.Forwarded.P50ms - fw.Local.P50ms
	fw.AddedP99ms = fw.Forwarded.P99ms - fw.Local.P99ms
	return fw, nil
}

// broadcast opens n sockets to one object over the endpoints, sends
// messages broadcasts carrying their send time from one more socket, one
// at a time, and records each delivery's latency.
func (e *benchDOEnv) broadcast(ctx context.Context, n, messages int) (*benchDOBroadcast, error) {
	o := client.ByName("room")
	if err := e.warm(ctx, o); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	dial := func(i int) (*websocket.Conn, error) {
		url := e.apis[i%len(e.apis)].WebSocketURL(e.endpoints[i%len(e.endpoints)], e.ns, o)
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: e.hc,
			HTTPHeader: http.Header{"Authorization": {"Bearer " + e.token}}})
		if err != nil {
			return nil, fmt.Errorf("bench do: websocket %d: %w", i, err)
		}
		return c, nil
	}
	sender, err := dial(0)
	if err != nil {
		return nil, err
	}
	defer sender.CloseNow()
	var mu sync.Mutex
	var all latencyHist
	var delivered atomic.Uint64
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
		wg.Wait()
	}()
	for i := range n {
		c, err := dial(i + 1)
		if err != nil {
			return nil, err
		}
		conns = append(conns, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h latencyHist
			defer func() { mu.Lock(); all.merge(&h); mu.Unlock() }()
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				if len(data) >= 8 {
					h.record(time.Since(time.Unix(0, int64(binary.BigEndian.Uint64(data)))))
					if delivered.Add(1) == uint64(n*messages) {
						cancel() // every delivery arrived
					}
				}
			}
		}()
	}
	// One broadcast at a time: the next leaves once every socket got the
	// previous one (or after 10 s), so each latency is one fan-out's, not
	// a queue's.
	buf := make([]byte, 8)
	for k := range messages {
		binary.BigEndian.PutUint64(buf, uint64(time.Now().UnixNano()))
		if err := sender.Write(ctx, websocket.MessageBinary, buf); err != nil {
			return nil, fmt.Errorf("bench do: broadcast: %w", err)
		}
		for wait := time.Now().Add(10 * time.Second); delivered.Load() < uint64((k+1)*n) && time.Now().Before(wait) && ctx.Err() == nil; {
			time.Sleep(time.Millisecond)
		}
	}
	select { // wait for the deliveries, at most 30 s after the last send
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
	}
	for _, c := range conns {
		c.CloseNow()
	}
	wg.Wait()
	conns = nil
	return &benchDOBroadcast{Sockets: n, Messages: messages, Expected: uint64(n * messages), Delivered: delivered.Load(),
		P50ms: ms(all.quantile(0.5)), P99ms: ms(all.quantile(0.99)), MaxMs: ms(all.max)}, nil
}

// printBenchDO prints the report as tables.
func printBenchDO(a *app, rep benchDOReport) error {
	t := newTable(a.stdout, "PHASE", "OBJECTS", "CONC", "REQ/S", "P50 MS", "P99 MS", "MAX MS", "ERRORS")
	row := func(p benchDOPhase) {
		t.row(p.Name, strconv.Itoa(p.Objects), strconv.Itoa(p.Concurrency), fmt.Sprintf("%.0f", p.PerSecond),
			fmt.Sprintf("%.2f", p.P50ms), fmt.Sprintf("%.2f", p.P99ms), fmt.Sprintf("%.2f", p.MaxMs), strconv.FormatUint(p.Errors, 10))
	}
	row(rep.Serialized)
	row(rep.Aggregate)
	if rep.Forward != nil {
		row(rep.Forward.Local)
		row(rep.Forward.Forwarded)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if rep.Forward != nil {
		fmt.Fprintf(a.stdout, "\nforwarding %s -> owner %s adds %.2f ms at p50, %.2f ms at p99\n",
			rep.Forward.Via, rep.Forward.Owner, rep.Forward.AddedP50ms, rep.Forward.AddedP99ms)
	}
	if b := rep.Broadcast; b != nil {
		fmt.Fprintf(a.stdout, "\nbroadcast to %d sockets, %d messages: %d/%d delivered, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
			b.Sockets, b.Messages, b.Delivered, b.Expected, b.P50ms, b.P99ms, b.MaxMs)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(a.stdout, "note: "+n)
	}
	return nil
}
