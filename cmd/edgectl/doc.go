// Command edgectl is the operator CLI of Edgeplane. It talks to the public
// HTTP API of any edged node (pkg/client does the talking; with several
// --endpoint values it uses the nearest one that answers) and runs local
// development clusters of edged processes.
//
// Every command prints a table by default and JSON with -o json. On failure
// edgectl prints one line, "edgectl: <error>", on stderr and exits 1.
//
// One command (or command group) per file: members.go, status.go,
// nearest.go, version.go, kv*.go, lag.go, top.go, tls.go, bench*.go,
// dev_up.go, dev_down.go; root.go holds the global flags and output.go the
// table and JSON writers.
package main
