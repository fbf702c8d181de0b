package deploytest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// pendingFlags are edged flags other work is adding that deploy files
// already use; a test logs (does not fail) while a flag is pending. None now.
var pendingFlags []string

// edgedFlags lists the flag names edged defines (cmd/edged/config.go and
// cmd/edged/tls.go).
func edgedFlags(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, file := range []string{"config.go", "tls.go"} {
		b, err := os.ReadFile(filepath.Join(RepoRoot(t), "cmd", "edged", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`fs\.\w+Var\(&\w+\.\w+, "([a-z0-9-]+)"`).FindAllSubmatch(b, -1) {
			out = append(out, string(m[1]))
		}
	}
	if len(out) < 15 {
		t.Fatalf("found only %d edged flags in cmd/edged/config.go: %v", len(out), out)
	}
	return out
}

// checkFlag fails the test for a flag edged neither has nor is getting.
func checkFlag(t *testing.T, where, name string, known []string) {
	t.Helper()
	switch {
	case slices.Contains(known, name):
	case slices.Contains(pendingFlags, name):
		t.Logf("%s: --%s is not in edged yet (being added)", where, name)
	default:
		t.Errorf("%s: edged has no flag --%s", where, name)
	}
}

// boolFlags are edged's boolean flags, given without a value.
var boolFlags = map[string]bool{"insecure": true, "http-tls": true, "access-log": true, "version": true}

// flagArgs parses "--name value" and "--name=value" pairs of an edged
// command line.
func flagArgs(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			t.Errorf("%s: unexpected argument %q", where, a)
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case ok:
		case boolFlags[name]:
			val = "true"
		case i+1 >= len(args):
			t.Errorf("%s: --%s has no value", where, name)
		default:
			val = args[i+1]
			i++
		}
		out[name] = val
	}
	return out
}

func TestSystemdEnvironmentFile(t *testing.T) {
	known := edgedFlags(t)
	f, err := os.Open(Path(t, "systemd", "edged.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "EDGE_") {
			t.Errorf("edged.env.example: %q is not an EDGE_NAME=value line", line)
			continue
		}
		env[k] = v
		checkFlag(t, "edged.env.example "+k, strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "EDGE_"), "_", "-")), known)
	}
	for _, k := range []string{"EDGE_NODE_ID", "EDGE_REGION", "EDGE_JOIN", "EDGE_GOSSIP_KEY", "EDGE_TLS_CA", "EDGE_TLS_CERT", "EDGE_TLS_KEY", "EDGE_BOOTSTRAP_EXPECT", "EDGE_ADVERTISE_ADDR"} {
		if env[k] == "" {
			t.Errorf("edged.env.example does not set %s", k)
		}
	}
	// The TLS files are the credentials the drop-in loads.
	dropIn, err := os.ReadFile(Path(t, "systemd", "edged.service.d", "tls.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"EDGE_TLS_CA", "EDGE_TLS_CERT", "EDGE_TLS_KEY"} {
		dir, name := filepath.Split(env[k])
		if dir != "/run/credentials/edged.service/" {
			t.Errorf("%s=%s: want a file of /run/credentials/edged.service/", k, env[k])
		}
		if !bytes.Contains(dropIn, []byte("LoadCredential="+name+":")) {
			t.Errorf("%s=%s: tls.conf has no LoadCredential=%s:...", k, env[k], name)
		}
	}
	// The unit reads this file and keeps its hardening.
	unit, err := os.ReadFile(Path(t, "systemd", "edged.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"EnvironmentFile=-/etc/edgeplane/edged.env", "DynamicUser=yes", "NoNewPrivileges=yes",
		"ProtectSystem=strict", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("edged.service lost %q", strings.TrimSpace(want))
		}
	}
}

func TestExampleConfigKeysAreFlags(t *testing.T) {
	known := edgedFlags(t)
	var cfg map[string]any
	readYAML(t, Path(t, "edged.example.yaml"), &cfg)
	for k := range cfg {
		checkFlag(t, "edged.example.yaml", k, known)
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on the unit and its
// drop-in when the tool is there (it is not required).
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	unit, err := os.ReadFile(Path(t, "systemd", "edged.service"))
	if err != nil {
		t.Fatal(err)
	}
	// verify wants ExecStart's binary to exist: point it at /bin/true.
	unit = regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/edged`).ReplaceAll(unit, []byte("ExecStart=/bin/true"))
	if err := os.WriteFile(filepath.Join(dir, "edged.service"), unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", filepath.Join(dir, "edged.service")).CombinedOutput()
	if err != nil {
		// Containers without a running systemd cannot verify at all.
		if bytes.Contains(out, []byte("System has not been booted with systemd")) || bytes.Contains(out, []byte("Failed to ")) && !bytes.Contains(out, []byte("edged.service")) {
			t.Skipf("systemd-analyze cannot run here: %s", out)
		}
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	if len(bytes.TrimSpace(out)) > 0 {
		t.Logf("systemd-analyze verify:\n%s", out)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(Path(t, "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?`).FindAllStringSubmatch(text, -1)
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got %d FROM", len(froms))
	}
	final := froms[len(froms)-1][1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final image %s: want distroless/static or scratch (static binaries, small)", final)
	}
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/edged", "./cmd/edgectl", "COPY --from=build /out/edged /out/edgectl"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(users) == 0 || slices.Contains([]string{"root", "0", "0:0"}, users[len(users)-1][1]) {
		t.Errorf("the image must run as a non-root USER, got %v", users)
	}
	// The builder's Go is the one go.mod asks for.
	gomod, err := os.ReadFile(filepath.Join(RepoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goLine == nil || !strings.Contains(text, "ARG GO_VERSION="+string(goLine[1])) {
		t.Errorf("Dockerfile's GO_VERSION differs from go.mod's go %s", goLine[1])
	}
}

// TestBinariesBuildWithoutCgo: every package edged and edgectl import
// builds with CGO_ENABLED=0 (what the Dockerfile does), checked with go list
// rather than a full second build.
func TestBinariesBuildWithoutCgo(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Error}}{{.ImportPath}}: {{.Error}}{{end}}{{if .CgoFiles}}{{.ImportPath}} uses cgo{{end}}",
		"./cmd/edged", "./cmd/edgectl")
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("CGO_ENABLED=0 go list: %v\n%s", err, out)
	}
}

type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Networks    yaml.Node         `yaml:"networks"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   []string          `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestCompose(t *testing.T) {
	known := edgedFlags(t)
	dir := Path(t, "docker")
	var cf composeFile
	readYAML(t, filepath.Join(dir, "compose.yaml"), &cf)
	for _, s := range []string{"n1", "n2", "n3", "prometheus", "grafana"} {
		if _, ok := cf.Services[s]; !ok {
			t.Fatalf("compose.yaml has no service %s", s)
		}
	}
	type node struct{ id, region, ip string }
	var nodes []node
	regions := map[string]bool{}
	published := map[string]bool{}
	for _, name := range []string{"n1", "n2", "n3"} {
		s := cf.Services[name]
		where := "compose.yaml " + name
		if s.Build == nil || s.Build.Dockerfile != "deploy/docker/Dockerfile" {
			t.Errorf("%s: want build from deploy/docker/Dockerfile", where)
		} else if _, err := os.Stat(filepath.Join(dir, s.Build.Context, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s: build context and dockerfile: %v", where, err)
		}
		flags := flagArgs(t, where, s.Command)
		for f := range flags {
			checkFlag(t, where, f, known)
		}
		for k := range s.Environment {
			checkFlag(t, where+" "+k, strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "EDGE_"), "_", "-")), known)
		}
		if flags["node-id"] != name {
			t.Errorf("%s: --node-id %q, want the service name", where, flags["node-id"])
		}
		if d, err := time.ParseDuration(flags["region-latency"]); err != nil || d <= 0 {
			t.Errorf("%s: want a positive --region-latency, got %q", where, flags["region-latency"])
		}
		regions[flags["region"]] = true
		var nets map[string]struct {
			IPv4 string `yaml:"ipv4_address"`
		}
		if err := s.Networks.Decode(&nets); err != nil || nets["edgeplane"].IPv4 == "" {
			t.Errorf("%s: want a fixed ipv4_address on network edgeplane (%v)", where, err)
		}
		if flags["advertise-addr"] != nets["edgeplane"].IPv4 {
			t.Errorf("%s: --advertise-addr %s is not its address %s", where, flags["advertise-addr"], nets["edgeplane"].IPv4)
		}
		if !slices.Contains(s.Volumes, name+"-data:"+flags["data-dir"]) {
			t.Errorf("%s: data dir %s is not on volume %s-data: %v", where, flags["data-dir"], name, s.Volumes)
		}
		if _, ok := cf.Volumes[name+"-data"]; !ok {
			t.Errorf("%s: volume %s-data not declared", where, name)
		}
		for _, p := range s.Ports {
			if published[p] {
				t.Errorf("%s: port %s published twice", where, p)
			}
			published[p] = true
		}
		nodes = append(nodes, node{id: name, region: flags["region"], ip: nets["edgeplane"].IPv4})
		if j := flags["join"]; j != "" {
			for _, addr := range strings.Split(j, ",") {
				if !strings.HasSuffix(addr, ":7946") {
					t.Errorf("%s: join %s is not a gossip address", where, addr)
				}
			}
		}
	}
	if len(regions) != 3 {
		t.Errorf("want three distinct regions, got %v", regions)
	}
	// Joins point at the other nodes.
	for _, n := range nodes[1:] {
		flags := flagArgs(t, n.id, cf.Services[n.id].Command)
		if !strings.Contains(flags["join"], nodes[0].ip+":7946") {
			t.Errorf("%s does not join n1 (%s)", n.id, flags["join"])
		}
	}
	// Bind mounts exist.
	for name, s := range cf.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("compose.yaml %s mounts %s: %v", name, src, err)
				}
			}
		}
	}
	// Prometheus scrapes every node with labels matching its flags.
	var pc struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string          `yaml:"targets"`
				Labels  map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, filepath.Join(dir, "prometheus.yml"), &pc)
	seen := map[string]bool{}
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName != "edged" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, _, _ := strings.Cut(target, ":")
				for _, n := range nodes {
					if n.id == host {
						seen[host] = true
						if st.Labels["node"] != n.id || st.Labels["region"] != n.region {
							t.Errorf("prometheus target %s labels %v, want node=%s region=%s", target, st.Labels, n.id, n.region)
						}
					}
				}
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("docker/prometheus.yml scrapes %v, want n1, n2, n3 in job edged", seen)
	}
	// The rule files it loads are the mounted project ones; check the config
	// with promtool after pointing them at the repository's copies.
	if _, err := exec.LookPath("promtool"); err == nil || os.Getenv("CI") == "true" {
		raw, _ := os.ReadFile(filepath.Join(dir, "prometheus.yml"))
		tmp := t.TempDir()
		raw = bytes.ReplaceAll(raw, []byte("/etc/prometheus/"), []byte(Path(t, "prometheus")+"/"))
		if err := os.WriteFile(filepath.Join(tmp, "prometheus.yml"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(Tool(t, "promtool"), "check", "config", filepath.Join(tmp, "prometheus.yml")).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check config docker/prometheus.yml: %v\n%s", err, out)
		}
	}
	for _, rf := range pc.RuleFiles {
		mounted := false
		for _, v := range cf.Services["prometheus"].Volumes {
			if strings.Contains(v, ":"+rf) {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("prometheus loads %s, which compose.yaml does not mount", rf)
		}
	}
	// Grafana: the provider reads where compose mounts the dashboards, and
	// the data source points at the prometheus service.
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(dir, "grafana", "provisioning", "dashboards", "edgeplane.yml"), &prov)
	if len(prov.Providers) != 1 || !slices.Contains(cf.Services["grafana"].Volumes, "../grafana/dashboards:"+prov.Providers[0].Options.Path+":ro") {
		t.Errorf("grafana dashboards provider %+v does not read the mounted ../grafana/dashboards", prov)
	}
	var ds struct {
		Datasources []struct {
			Type, URL string
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(dir, "grafana", "provisioning", "datasources", "prometheus.yml"), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("grafana data source %+v, want prometheus at http://prometheus:9090", ds)
	}
}

// k8sDocs reads every manifest the kustomization lists, by kind/name.
func k8sDocs(t *testing.T) map[string]map[string]any {
	t.Helper()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	readYAML(t, Path(t, "kubernetes", "kustomization.yaml"), &kust)
	docs := map[string]map[string]any{}
	for _, r := range kust.Resources {
		f, err := os.Open(Path(t, "kubernetes", r))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for {
			var d map[string]any
			err := dec.Decode(&d)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			if d == nil {
				continue
			}
			meta, _ := d["metadata"].(map[string]any)
			key := fmt.Sprintf("%v/%v", d["kind"], meta["name"])
			if _, dup := docs[key]; dup {
				t.Errorf("%s defined twice", key)
			}
			docs[key] = d
		}
		f.Close()
	}
	return docs
}

// get walks a decoded YAML document: keys for maps, ints for lists.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }

func TestKubernetes(t *testing.T) {
	known := edgedFlags(t)
	docs := k8sDocs(t)
	sts := docs["StatefulSet/edged"]
	if sts == nil {
		t.Fatalf("no StatefulSet/edged in %v", keys(docs))
	}
	spec := get(sts, "spec")
	replicas, _ := get(spec, "replicas").(int)
	if replicas < 3 || replicas%2 == 0 {
		t.Errorf("replicas %d: want an odd number >= 3 (Raft voters)", replicas)
	}
	podLabels, _ := get(spec, "template", "metadata", "labels").(map[string]any)
	selects := func(sel any) bool {
		m, _ := sel.(map[string]any)
		if len(m) == 0 {
			return false
		}
		for k, v := range m {
			if podLabels[k] != v {
				return false
			}
		}
		return true
	}
	// Headless Service for the peers.
	peersName, _ := get(spec, "serviceName").(string)
	peers := docs["Service/"+peersName]
	if peers == nil || get(peers, "spec", "clusterIP") != "None" || get(peers, "spec", "publishNotReadyAddresses") != true {
		t.Errorf("serviceName %q: want a headless Service publishing not-ready pods", peersName)
	}
	if !selects(get(peers, "spec", "selector")) {
		t.Errorf("Service/%s does not select the StatefulSet's pods", peersName)
	}
	c := get(spec, "template", "spec", "containers", 0)
	var args []string
	for _, a := range list(get(c, "args")) {
		args = append(args, fmt.Sprint(a))
	}
	flags := flagArgs(t, "statefulset args", args)
	for f := range flags {
		checkFlag(t, "statefulset", f, known)
	}
	// Node id from the pod name (ordinal); data on the claim template.
	var envFrom = map[string]any{}
	for _, e := range list(get(c, "env")) {
		envFrom[fmt.Sprint(get(e, "name"))] = e
	}
	if get(envFrom["EDGE_NODE_ID"], "valueFrom", "fieldRef", "fieldPath") != "metadata.name" {
		t.Errorf("EDGE_NODE_ID must come from metadata.name (stable, from the ordinal)")
	}
	if get(envFrom["EDGE_GOSSIP_KEY"], "valueFrom", "secretKeyRef", "key") == nil {
		t.Errorf("EDGE_GOSSIP_KEY must come from a Secret")
	}
	claim := get(spec, "volumeClaimTemplates", 0, "metadata", "name")
	mounts := map[string]string{}
	for _, m := range list(get(c, "volumeMounts")) {
		mounts[fmt.Sprint(get(m, "name"))] = fmt.Sprint(get(m, "mountPath"))
	}
	if claim == nil || mounts[fmt.Sprint(claim)] != flags["data-dir"] {
		t.Errorf("--data-dir %s is not the claim template's mount (%v, %v)", flags["data-dir"], claim, mounts)
	}
	// Joins every pod of the headless Service by its stable name.
	for i := range replicas {
		want := fmt.Sprintf("edged-%d.%s.", i, peersName)
		if !strings.Contains(flags["join"], want) {
			t.Errorf("--join lacks %s...: %s", want, flags["join"])
		}
	}
	if flags["bootstrap-expect"] != strconv.Itoa(replicas) {
		t.Errorf("--bootstrap-expect %s, want %d", flags["bootstrap-expect"], replicas)
	}
	// TLS from the Secret volume.
	var tlsVol any
	for _, v := range list(get(spec, "template", "spec", "volumes")) {
		if get(v, "secret") != nil {
			tlsVol = v
		}
	}
	if tlsVol == nil {
		t.Fatal("no Secret volume for TLS")
	}
	dir := mounts[fmt.Sprint(get(tlsVol, "name"))]
	var files []string
	for _, it := range list(get(tlsVol, "secret", "items")) {
		files = append(files, dir+"/"+fmt.Sprint(get(it, "path")))
	}
	// --tls-dir DIR: DIR/ca.crt and, per pod, DIR/<node id>.crt and .key
	// (each certificate names its own node id).
	want := []string{flags["tls-dir"] + "/ca.crt"}
	for i := range 3 {
		want = append(want, fmt.Sprintf("%s/edged-%d.crt", flags["tls-dir"], i), fmt.Sprintf("%s/edged-%d.key", flags["tls-dir"], i))
	}
	for _, f := range want {
		if flags["tls-dir"] == "" || !slices.Contains(files, f) {
			t.Errorf("--tls-dir %q: %s is not a file of the Secret volume %v", flags["tls-dir"], f, files)
		}
	}
	// Readiness on /readyz; ports the Services name exist.
	if get(c, "readinessProbe", "httpGet", "path") != "/readyz" {
		t.Errorf("readinessProbe must GET /readyz")
	}
	ports := map[string]bool{}
	for _, p := range list(get(c, "ports")) {
		ports[fmt.Sprint(get(p, "name"))] = true
	}
	api := docs["Service/edged"]
	if api == nil || !selects(get(api, "spec", "selector")) {
		t.Errorf("no API Service/edged selecting the pods")
	}
	for _, svc := range []map[string]any{peers, api} {
		for _, p := range list(get(svc, "spec", "ports")) {
			if !ports[fmt.Sprint(get(p, "targetPort"))] {
				t.Errorf("Service/%v targets port %v the container does not name", get(svc, "metadata", "name"), get(p, "targetPort"))
			}
		}
	}
	if n := len(list(get(peers, "spec", "ports"))); n < 4 {
		t.Errorf("headless Service has %d ports: want grpc, raft, gossip tcp and udp", n)
	}
	// Spread over zones and regions.
	var keysSpread []string
	for _, c := range list(get(spec, "template", "spec", "topologySpreadConstraints")) {
		keysSpread = append(keysSpread, fmt.Sprint(get(c, "topologyKey")))
		if !selects(get(c, "labelSelector", "matchLabels")) {
			t.Errorf("topology spread constraint %v does not select the pods", c)
		}
	}
	for _, k := range []string{"topology.kubernetes.io/zone", "topology.kubernetes.io/region"} {
		if !slices.Contains(keysSpread, k) {
			t.Errorf("no topology spread over %s", k)
		}
	}
	if get(spec, "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Errorf("pods must run as non-root")
	}
	// The PDB keeps a quorum of the voters.
	pdb := docs["PodDisruptionBudget/edged"]
	if pdb == nil || !selects(get(pdb, "spec", "selector", "matchLabels")) {
		t.Fatalf("no PodDisruptionBudget/edged selecting the pods")
	}
	quorum := replicas/2 + 1
	switch {
	case get(pdb, "spec", "maxUnavailable") != nil:
		if mu, _ := get(pdb, "spec", "maxUnavailable").(int); replicas-mu < quorum || mu < 1 {
			t.Errorf("maxUnavailable %v breaks the quorum of %d of %d", mu, quorum, replicas)
		}
	case get(pdb, "spec", "minAvailable") != nil:
		if ma, _ := get(pdb, "spec", "minAvailable").(int); ma < quorum || ma >= replicas {
			t.Errorf("minAvailable %v: want %d..%d", ma, quorum, replicas-1)
		}
	default:
		t.Errorf("PDB sets neither maxUnavailable nor minAvailable")
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
