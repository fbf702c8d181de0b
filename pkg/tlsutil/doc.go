// Package tlsutil gives Edgeplane nodes a cluster identity and mutual TLS.
//
// A cluster has one certificate authority (CreateCA). Every node holds a
// certificate from it (CreateNodeCert) naming its node id twice: as the URI
// SAN edgeplane://node/<id> (the authoritative form) and as the CommonName
// (for people reading the certificate). Operators may hold client
// certificates (CreateClientCert, edgeplane://client/<name>).
//
// A Reloader keeps the CA bundle, the node's certificate and its key loaded
// from files and swaps them atomically on Reload, so that certificates can be
// rotated without a restart (the daemon calls Reload on SIGHUP). Every
// tls.Config it builds reads the current material at handshake time:
//
//   - ServerConfig: internal listeners (gRPC, Raft). TLS 1.3, client
//     certificate required and verified against the current CA bundle.
//   - ClientConfig(expectNodeID): dialing another node. The server must
//     present a certificate from the current CA bundle and, when
//     expectNodeID is set, name that node.
//   - HTTPServerConfig: the public HTTPS API; no client certificate.
//
// On top of those, ServerCredentials/ClientCredentials are gRPC transport
// credentials, RequireMember is a gRPC interceptor admitting only current
// members, and NewRaftStreamLayer wraps a raft.StreamLayer in mutual TLS.
//
// Identities are checked by URI SAN, not by host name: a node's IP/DNS
// SANs matter only to clients of the public HTTPS API that check host
// names.
package tlsutil
