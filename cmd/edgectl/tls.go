package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/tlsutil"
)

// tlsIssued is the JSON output of `edgectl tls ca create` and
// `edgectl tls cert create`: the files written and what the certificate
// says.
type tlsIssued struct {
	Files     []string  `json:"files"`
	Subject   string    `json:"subject"`
	Identity  string    `json:"identity,omitempty"`
	URIs      []string  `json:"uris,omitempty"`
	IPs       []string  `json:"ips,omitempty"`
	DNSNames  []string  `json:"dns_names,omitempty"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	IsCA      bool      `json:"is_ca"`
}

func describeIssued(iss *tlsutil.Issued) tlsIssued {
	c := iss.Cert
	out := tlsIssued{
		Files:     []string{iss.CertFile, iss.KeyFile},
		Subject:   c.Subject.String(),
		DNSNames:  c.DNSNames,
		Serial:    fmt.Sprintf("%x", c.SerialNumber),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		IsCA:      c.IsCA,
	}
	if id, err := tlsutil.IdentityFromCert(c); err == nil {
		out.Identity = id.String()
	}
	for _, u := range c.URIs {
		out.URIs = append(out.URIs, u.String())
	}
	for _, ip := range c.IPAddresses {
		out.IPs = append(out.IPs, ip.String())
	}
	return out
}

// printIssued is the table form of tlsIssued.
func printIssued(a *app, v tlsIssued) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, v)
	}
	t := newTable(a.stdout)
	t.row("certificate", v.Files[0])
	t.row("key", v.Files[1]+" (keep it secret)")
	t.row("subject", v.Subject)
	if v.Identity != "" {
		t.row("identity", v.Identity)
	}
	if len(v.IPs) > 0 {
		t.row("ips", strings.Join(v.IPs, ", "))
	}
	if len(v.DNSNames) > 0 {
		t.row("dns names", strings.Join(v.DNSNames, ", "))
	}
	t.row("not after", v.NotAfter.Format(time.RFC3339))
	return t.flush()
}

// newTLSCmd is `edgectl tls`: the cluster CA and node certificates.
func newTLSCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "Create the cluster CA and node certificates",
		Long: "Create the certificate authority of a cluster and the certificates nodes and operators\n" +
			"use to prove who they are to each other (mutual TLS). See docs/security.md.",
	}
	ca := &cobra.Command{Use: "ca", Short: "Manage the cluster certificate authority"}
	ca.AddCommand(newTLSCACreateCmd(a))
	cert := &cobra.Command{Use: "cert", Short: "Issue node and client certificates"}
	cert.AddCommand(newTLSCertCreateCmd(a))
	cmd.AddCommand(ca, cert)
	return cmd
}

// days turns --days into a validity; 0 keeps the default.
func days(n int) (time.Duration, error) {
	if n < 0 {
		return 0, fmt.Errorf("invalid --days %d: must be positive", n)
	}
	if n > 100*365 {
		return 0, fmt.Errorf("invalid --days %d: at most %d", n, 100*365)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

func newTLSCACreateCmd(a *app) *cobra.Command {
	var dir string
	var nDays int
	cmd := &cobra.Command{
		Use:   "create --dir DIR",
		Short: "Create a new cluster CA (ca.crt, ca.key) in DIR",
		Long: "Create a new cluster certificate authority: DIR/ca.crt and DIR/ca.key (ECDSA P-256,\n" +
			"mode 0600, valid 10 years unless --days says otherwise). Existing files are never\n" +
			"overwritten. Keep ca.key offline: it is needed only to issue certificates.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			validity, err := days(nDays)
			if err != nil {
				return err
			}
			iss, err := tlsutil.CreateCA(dir, tlsutil.CAOptions{Validity: validity})
			if err != nil {
				return fmt.Errorf("create CA: %w", err)
			}
			return printIssued(a, describeIssued(iss))
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory for ca.crt and ca.key (created if missing)")
	cmd.Flags().IntVar(&nDays, "days", 0, "lifetime in days (default 3650)")
	return cmd
}

func newTLSCertCreateCmd(a *app) *cobra.Command {
	var caDir, node, client, out string
	var ips, dns []string
	var nDays int
	cmd := &cobra.Command{
		Use:   "create --ca-dir DIR (--node ID | --client NAME) --out DIR",
		Short: "Issue a node or operator certificate from the cluster CA",
		Long: "Issue a certificate from the CA in --ca-dir and write OUT/NAME.crt and OUT/NAME.key\n" +
			"(ECDSA P-256, mode 0600, valid 365 days unless --days says otherwise, never past the CA).\n" +
			"--node ID names a node (edgeplane://node/ID, server and client auth); --client NAME an\n" +
			"operator (edgeplane://client/NAME, client auth only). Nodes find each other by id, not\n" +
			"host name: --ip and --dns are needed only for HTTPS API clients that check host names,\n" +
			"and none are added by default.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if caDir == "" || out == "" {
				return errors.New("--ca-dir and --out are required")
			}
			var id tlsutil.Identity
			switch {
			case node != "" && client != "":
				return errors.New("give --node or --client, not both")
			case node != "":
				id = tlsutil.NodeIdentity(node)
			case client != "":
				id = tlsutil.ClientIdentity(client)
			default:
				return errors.New("--node ID or --client NAME is required")
			}
			req := tlsutil.CertRequest{Identity: id, DNSNames: dns}
			for _, s := range ips {
				ip := net.ParseIP(s)
				if ip == nil {
					return fmt.Errorf("invalid --ip %q", s)
				}
				req.IPs = append(req.IPs, ip)
			}
			var err error
			if req.Validity, err = days(nDays); err != nil {
				return err
			}
			iss, err := tlsutil.CreateCert(caDir, out, req)
			if err != nil {
				return fmt.Errorf("create certificate: %w", err)
			}
			return printIssued(a, describeIssued(iss))
		},
	}
	f := cmd.Flags()
	f.StringVar(&caDir, "ca-dir", "", "directory holding ca.crt and ca.key")
	f.StringVar(&node, "node", "", "node id the certificate is for")
	f.StringVar(&client, "client", "", "operator name the certificate is for (instead of --node)")
	f.StringArrayVar(&ips, "ip", nil, "IP address SAN (repeatable)")
	f.StringArrayVar(&dns, "dns", nil, "DNS name SAN (repeatable)")
	f.StringVar(&out, "out", "", "directory for NAME.crt and NAME.key (created if missing)")
	f.IntVar(&nDays, "days", 0, "lifetime in days (default 365)")
	return cmd
}
