package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// material is one consistent set of CA bundle, certificate and key.
type material struct {
	pool     *x509.CertPool
	cas      []*x509.Certificate
	cert     *tls.Certificate
	identity Identity
}

// Reloader holds a node's TLS material loaded from files and swaps it
// atomically on Reload. It is safe for concurrent use. Every tls.Config it
// returns reads the material current at each handshake, so a reload of the
// certificate or of the CA bundle takes effect for new connections;
// established connections keep what they negotiated.
type Reloader struct {
	caFile, certFile, keyFile string
	now                       func() time.Time

	mu  sync.Mutex // serialises Reload
	cur atomic.Pointer[material]
}

// NodeFiles returns the paths edged uses for node id's material in dir:
// ca.crt, <id>.crt and <id>.key, as written by CreateCA and CreateNodeCert
// when both were given the same directory.
func NodeFiles(dir, id string) (caFile, certFile, keyFile string) {
	certFile, keyFile = CertFiles(dir, id)
	return filepath.Join(dir, CACertFile), certFile, keyFile
}

// NewReloader loads the CA bundle (one or more PEM certificates: several
// during a CA rotation), the certificate and its key. The certificate must
// carry an edgeplane:// identity, chain to the bundle and be valid now.
func NewReloader(caFile, certFile, keyFile string) (*Reloader, error) {
	r := &Reloader{caFile: caFile, certFile: certFile, keyFile: keyFile, now: time.Now}
	m, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(m)
	return r, nil
}

// Reload reads the files again and, if they form a valid set, swaps them in
// for new handshakes. On error the material in use is kept.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, err := r.load()
	if err != nil {
		return fmt.Errorf("tls reload (keeping the current certificate): %w", err)
	}
	old := r.cur.Load()
	if old != nil && m.identity != old.identity {
		return fmt.Errorf("tls reload (keeping the current certificate): new certificate names %s, not %s", m.identity, old.identity)
	}
	r.cur.Store(m)
	return nil
}

// Identity is the identity of the current certificate.
func (r *Reloader) Identity() Identity { return r.cur.Load().identity }

// Leaf is the current certificate.
func (r *Reloader) Leaf() *x509.Certificate { return r.cur.Load().cert.Leaf }

// NotAfter is when the current certificate expires (for a metric or a
// warning).
func (r *Reloader) NotAfter() time.Time { return r.Leaf().NotAfter }

// CAs are the certificates of the current CA bundle.
func (r *Reloader) CAs() []*x509.Certificate {
	return append([]*x509.Certificate(nil), r.cur.Load().cas...)
}

func (r *Reloader) load() (*material, error) {
	cas, err := readCerts(r.caFile)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		if !c.IsCA {
			return nil, fmt.Errorf("CA bundle %s: %q is not a CA certificate", r.caFile, c.Subject.CommonName)
		}
		pool.AddCert(c)
	}
	pair, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", r.certFile, err)
		}
	}
	id, err := IdentityFromCert(pair.Leaf)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", r.certFile, err)
	}
	inter := x509.NewCertPool()
	for _, der := range pair.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{
		Roots:         pool,
		Intermediates: inter,
		CurrentTime:   r.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, fmt.Errorf("certificate %s does not verify against %s: %w", r.certFile, r.caFile, err)
	}
	return &material{pool: pool, cas: cas, cert: &pair, identity: id}, nil
}

// verifyPeer checks a peer's chain against the current CA bundle for usage
// and returns its identity.
func (r *Reloader) verifyPeer(certs []*x509.Certificate, usage x509.ExtKeyUsage) (Identity, error) {
	if len(certs) == 0 {
		return Identity{}, ErrUnverifiedPeer
	}
	m := r.cur.Load()
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         m.pool,
		Intermediates: inter,
		CurrentTime:   r.now(),
		KeyUsages:     []x509.ExtKeyUsage{usage},
	}); err != nil {
		return Identity{}, fmt.Errorf("peer certificate not from the cluster CA: %w", err)
	}
	return IdentityFromCert(certs[0])
}

// errWrongPeer is wrapped by handshake errors naming the wrong node.
var errWrongPeer = errors.New("peer is not the expected node")
