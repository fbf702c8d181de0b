package kv

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestKeysSeriesAreCapped: past maxKeysSeries namespaces, the smallest are
// summed under namespace="other" and nothing is lost from the total.
func TestKeysSeriesAreCapped(t *testing.T) {
	st, err := OpenStore(StoreConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	total := 0
	for i := range maxKeysSeries + 5 {
		ns := fmt.Sprintf("ns%03d", i)
		var batch []Entry
		for k := range i + 1 {
			batch = append(batch, Entry{Namespace: ns, Key: fmt.Sprint(k), Value: []byte("v"), Version: Version{HLC: 1, Node: "n"}})
		}
		if _, err := st.Apply(batch); err != nil {
			t.Fatal(err)
		}
		total += i + 1
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newKeysCollector(st))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []*dto.Metric
	for _, f := range fams {
		series = append(series, f.GetMetric()...)
	}
	if len(series) != maxKeysSeries+1 {
		t.Fatalf("%d series, want %d", len(series), maxKeysSeries+1)
	}
	sum, other := 0, -1.0
	for _, m := range series {
		sum += int(m.GetGauge().GetValue())
		if m.GetLabel()[0].GetValue() == "other" {
			other = m.GetGauge().GetValue()
		}
	}
	// The five smallest namespaces hold 1+2+3+4+5 entries.
	if other != 15 || sum != total {
		t.Fatalf("other = %v (want 15), sum = %d (want %d)", other, sum, total)
	}
}
