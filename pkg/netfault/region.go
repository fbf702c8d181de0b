package netfault

import "time"

// RegionLatency is the rule behind edged's --region-latency flag: a fixed
// one-way delay towards nodes whose region differs from the local one. It
// never drops. RegionOf maps a remote address to its node's region; an
// address it does not know gets no delay.
type RegionLatency struct {
	LocalRegion string
	Delay       time.Duration
	RegionOf    func(addr string) (string, bool)
}

var _ Rules = RegionLatency{}

// Link delays traffic to addresses of other regions by r.Delay.
func (r RegionLatency) Link(_, to string) (bool, time.Duration) {
	if r.Delay <= 0 || r.RegionOf == nil {
		return false, 0
	}
	region, ok := r.RegionOf(to)
	if !ok || region == r.LocalRegion {
		return false, 0
	}
	return false, r.Delay
}
