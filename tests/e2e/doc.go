// Package e2e holds end-to-end tests: they build the real edged and edgectl
// binaries, run several edged processes on loopback, and drive them through
// edgectl and plain HTTP, as an operator would.
package e2e
