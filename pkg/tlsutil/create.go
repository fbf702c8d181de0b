package tlsutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// File names inside a CA directory.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
)

// Default lifetimes.
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultCertValidity = 365 * 24 * time.Hour
	// backdate moves NotBefore into the past so that peers whose clocks lag
	// a little still accept a fresh certificate.
	backdate = 5 * time.Minute
)

// Issued describes certificate and key files that were written.
type Issued struct {
	CertFile string
	KeyFile  string
	Cert     *x509.Certificate
}

// CAOptions tunes CreateCA. The zero value is fine.
type CAOptions struct {
	// Validity is the CA's lifetime; 0 means DefaultCAValidity.
	Validity time.Duration
	// CommonName of the CA; "" means "Edgeplane cluster CA".
	CommonName string
	// Now is the issue time; zero means time.Now().
	Now time.Time
}

// CreateCA writes a new cluster CA into dir (created 0700 if missing):
// ca.crt and ca.key (mode 0600), an ECDSA P-256 key. It refuses to
// overwrite either file.
func CreateCA(dir string, opts CAOptions) (*Issued, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	if err := refuseExisting(certPath, keyPath); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	validity := opts.Validity
	if validity == 0 {
		validity = DefaultCAValidity
	}
	if validity < 0 {
		return nil, fmt.Errorf("CA validity %v: must be positive", validity)
	}
	cn := opts.CommonName
	if cn == "" {
		cn = "Edgeplane cluster CA"
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Edgeplane"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	if err := writePair(dir, certPath, keyPath, der, key); err != nil {
		return nil, err
	}
	return &Issued{CertFile: certPath, KeyFile: keyPath, Cert: cert}, nil
}

// CertRequest is what CreateCert issues.
type CertRequest struct {
	// Identity is NodeIdentity(id) or ClientIdentity(name).
	Identity Identity
	// IPs and DNSNames become SANs, exactly as given: none are added by
	// default. The cluster checks identities by URI SAN; these matter only
	// to HTTPS clients that check host names.
	IPs      []net.IP
	DNSNames []string
	// Validity is the certificate's lifetime; 0 means DefaultCertValidity.
	// It is cut to the CA's NotAfter.
	Validity time.Duration
	// Now is the issue time; zero means time.Now().
	Now time.Time
}

// CertFiles returns the paths of the certificate and key CreateCert writes
// for the identity name into dir: <name>.crt and <name>.key.
func CertFiles(dir, name string) (certFile, keyFile string) {
	return filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
}

// CreateNodeCert issues node nodeID a certificate from the CA in caDir,
// valid for DefaultCertValidity, and writes <nodeID>.crt and <nodeID>.key
// (0600) into outDir.
func CreateNodeCert(caDir, nodeID string, ips []net.IP, dnsNames []string, outDir string) (*Issued, error) {
	return CreateCert(caDir, outDir, CertRequest{Identity: NodeIdentity(nodeID), IPs: ips, DNSNames: dnsNames})
}

// CreateClientCert issues operator client name a certificate (client auth
// only) and writes <name>.crt and <name>.key into outDir.
func CreateClientCert(caDir, name, outDir string) (*Issued, error) {
	return CreateCert(caDir, outDir, CertRequest{Identity: ClientIdentity(name)})
}

// CreateCert issues req from the CA in caDir and writes <name>.crt and
// <name>.key (0600) into outDir, refusing to overwrite them. The key is
// ECDSA P-256. Node certificates are good for both server and client
// authentication; client certificates for client authentication only.
func CreateCert(caDir, outDir string, req CertRequest) (*Issued, error) {
	id := req.Identity
	if err := id.Validate(); err != nil {
		return nil, err
	}
	if id.Kind == KindClient && (len(req.IPs) > 0 || len(req.DNSNames) > 0) {
		return nil, errors.New("client certificates take no IP or DNS names")
	}
	for _, ip := range req.IPs {
		if ip == nil || (ip.To4() == nil && ip.To16() == nil) {
			return nil, fmt.Errorf("invalid IP SAN %v", ip)
		}
	}
	for _, n := range req.DNSNames {
		if n == "" || len(n) > 253 {
			return nil, fmt.Errorf("invalid DNS SAN %q", n)
		}
	}
	caCert, caKey, err := LoadCA(caDir)
	if err != nil {
		return nil, err
	}
	certPath, keyPath := CertFiles(outDir, id.Name)
	if err := refuseExisting(certPath, keyPath); err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	validity := req.Validity
	if validity == 0 {
		validity = DefaultCertValidity
	}
	if validity < 0 {
		return nil, fmt.Errorf("certificate validity %v: must be positive", validity)
	}
	notAfter := now.Add(validity)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("CA %s expired on %s", caDir, caCert.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if id.Kind == KindClient {
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: id.Name, Organization: []string{"Edgeplane"}, OrganizationalUnit: []string{string(id.Kind)}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           usage,
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{id.URI()},
		IPAddresses:           req.IPs,
		DNSNames:              req.DNSNames,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	if err := writePair(outDir, certPath, keyPath, der, key); err != nil {
		return nil, err
	}
	return &Issued{CertFile: certPath, KeyFile: keyPath, Cert: cert}, nil
}

// LoadCA reads the CA certificate and key of caDir.
func LoadCA(caDir string) (*x509.Certificate, crypto.Signer, error) {
	certs, err := readCerts(filepath.Join(caDir, CACertFile))
	if err != nil {
		return nil, nil, err
	}
	if len(certs) != 1 {
		return nil, nil, fmt.Errorf("%s: want one CA certificate to sign with, found %d", filepath.Join(caDir, CACertFile), len(certs))
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, nil, fmt.Errorf("%s is not a CA certificate", filepath.Join(caDir, CACertFile))
	}
	key, err := readKey(filepath.Join(caDir, CAKeyFile))
	if err != nil {
		return nil, nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, nil, fmt.Errorf("%s does not match %s", filepath.Join(caDir, CAKeyFile), filepath.Join(caDir, CACertFile))
	}
	return cert, key, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

// readCerts reads every CERTIFICATE block of a PEM file.
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return certs, nil
}

// readKey reads a PKCS#8 or SEC 1 private key.
func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%s: no PEM private key", path)
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("%s: key of type %T cannot sign", path, k)
			}
			return s, nil
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return k, nil
		}
	}
}

func refuseExisting(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; refusing to overwrite it", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// writePair writes the certificate (0644) and key (0600) with O_EXCL, so a
// file appearing meanwhile is not overwritten either. On failure nothing
// written is left behind.
func writePair(dir, certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	if err := writeExclusive(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	if err := writeExclusive(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		_ = os.Remove(keyPath)
		return err
	}
	return nil
}

func writeExclusive(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// keyID is a SubjectKeyId: a truncated SHA-256 of the public key.
func keyID(pub *ecdsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return sum[:20]
}
