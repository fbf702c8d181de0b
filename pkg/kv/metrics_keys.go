package kv

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// maxKeysSeries caps the namespaces edge_kv_keys reports one by one: the
// largest ones; the rest are summed under namespace="other", so a tenant
// creating thousands of namespaces cannot blow up the scrape.
const maxKeysSeries = 50

// keysCollector reports edge_kv_keys per namespace at scrape time from the
// store's counts (entries including tombstones: approximate).
type keysCollector struct {
	store *Store
	desc  *prometheus.Desc
}

func newKeysCollector(store *Store) *keysCollector {
	return &keysCollector{store: store, desc: prometheus.NewDesc("edge_kv_keys",
		"Approximate number of KV entries (tombstones included) per namespace on this node: the 50 largest namespaces, the rest summed under namespace=\"other\".",
		[]string{"namespace"}, nil)}
}

func (c *keysCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *keysCollector) Collect(ch chan<- prometheus.Metric) {
	nss, err := c.store.Namespaces()
	if err != nil {
		return
	}
	type count struct {
		ns string
		n  int
	}
	counts := make([]count, 0, len(nss))
	for _, ns := range nss {
		counts = append(counts, count{ns, int(c.store.Count(ns))})
	}
	slices.SortFunc(counts, func(a, b count) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.ns, b.ns)) })
	other := 0
	for i, x := range counts {
		if i < maxKeysSeries {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(x.n), x.ns)
		} else {
			other += x.n
		}
	}
	if len(counts) > maxKeysSeries {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(other), "other")
	}
}
