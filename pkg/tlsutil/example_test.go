package tlsutil_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"google.golang.org/grpc"

	"github.com/edgeplane/edgeplane/pkg/tlsutil"
)

// Example issues a node its certificate and builds what edged needs from
// it: gRPC server options admitting members only, and client credentials
// for dialing node n2.
func Example() {
	dir, err := os.MkdirTemp("", "edgeplane-tls")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	caDir, nodeDir := filepath.Join(dir, "ca"), filepath.Join(dir, "n1")
	if _, err := tlsutil.CreateCA(caDir, tlsutil.CAOptions{}); err != nil {
		log.Fatal(err)
	}
	iss, err := tlsutil.CreateNodeCert(caDir, "n1", nil, nil, nodeDir)
	if err != nil {
		log.Fatal(err)
	}
	// The node's directory holds ca.crt, n1.crt and n1.key.
	ca, _ := os.ReadFile(filepath.Join(caDir, tlsutil.CACertFile))
	if err := os.WriteFile(filepath.Join(nodeDir, tlsutil.CACertFile), ca, 0o644); err != nil {
		log.Fatal(err)
	}
	rel, err := tlsutil.NewReloader(tlsutil.NodeFiles(nodeDir, "n1"))
	if err != nil {
		log.Fatal(err)
	}
	isMember := func(id string) bool { return id == "n1" || id == "n2" }
	opts := append([]grpc.ServerOption{grpc.Creds(rel.ServerCredentials())}, tlsutil.RequireMember(isMember)...)
	srv := grpc.NewServer(opts...)
	defer srv.Stop()
	_ = grpc.WithTransportCredentials(rel.ClientCredentials("n2"))

	id, _ := tlsutil.NodeIDFromCert(iss.Cert)
	fmt.Println(id, rel.Identity())
	// Output: n1 edgeplane://node/n1
}
