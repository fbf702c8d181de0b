package kv

import "github.com/prometheus/client_golang/prometheus"

// keysCollector reports edge_kv_keys per namespace at scrape time from the
// store's counts (entries including tombstones: approximate).
type keysCollector struct {
	store *Store
	desc  *prometheus.Desc
}

func newKeysCollector(store *Store) *keysCollector {
	return &keysCollector{store: store, desc: prometheus.NewDesc("edge_kv_keys",
		"Approximate number of KV entries per namespace on this node (tombstones included).", []string{"namespace"}, nil)}
}

func (c *keysCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *keysCollector) Collect(ch chan<- prometheus.Metric) {
	nss, err := c.store.Namespaces()
	if err != nil {
		return
	}
	for _, ns := range nss {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.store.Count(ns)), ns)
	}
}
