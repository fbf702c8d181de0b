// Package services lists the data services an edged runs: the one place a
// new service is wired in (one line in Builtin).
package services

import (
	"github.com/edgeplane/edgeplane/pkg/d1"
	"github.com/edgeplane/edgeplane/pkg/do"
	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// Options tunes the built-in services; zero values take their defaults.
type Options struct {
	KV kv.Options
	D1 d1.Options
	DO do.Options
}

// Builtin returns the factories of every built-in service.
func Builtin(o Options) []service.Factory {
	return []service.Factory{
		kv.Factory(o.KV),
		d1.Factory(o.D1),
		do.Factory(o.DO),
	}
}
