package router

import (
	"net/http"
	"time"
)

// PlacementKind says which node serves a route.
type PlacementKind string

// The placements a route can declare.
const (
	// PlaceHere serves the request on the node that received it (KV:
	// every node holds every namespace).
	PlaceHere PlacementKind = "here"
	// PlaceLeader serves it on the Raft leader (catalog writes, D1 writes).
	PlaceLeader PlacementKind = "leader"
	// PlaceOwner serves it on the owner of a key: the first live member in
	// the key's rendezvous order (Durable Objects).
	PlaceOwner PlacementKind = "owner"
	// PlaceNearest serves it on the nearest live node that holds the data:
	// the receiving node when it does, else the lowest estimated RTT.
	PlaceNearest PlacementKind = "nearest"
)

// KeyFunc extracts the placement key of a request (an object id, ...). An
// error is answered as a 400 without forwarding.
type KeyFunc func(r *http.Request) (string, error)

// HoldersFunc lists the node ids that hold the data a request reads. An
// error is answered as a 400 without forwarding.
type HoldersFunc func(r *http.Request) ([]string, error)

// OwnerFunc names the node that owns a request's object, as a service's
// own placement decides it (Durable Objects: leases over a rendezvous
// order). An error is answered as a 400 unless it carries its own status.
type OwnerFunc func(r *http.Request) (nodeID string, err error)

// Placement is where a route is served. Build one with Here, AtLeader,
// AtOwner, AtOwnerBy or AtNearest; the zero value is Here.
type Placement struct {
	kind    PlacementKind
	key     KeyFunc
	owner   OwnerFunc
	holders HoldersFunc
	choose  func(r *http.Request) Placement
	timeout time.Duration // of a forwarded request; 0: the forwarder's
}

// Within returns p with the deadline of a forwarded request that has none
// set to d rather than the forwarder's default (DefaultForwardTimeout):
// for routes whose work may take longer, such as a D1 import applied as
// one command. The serving node sees the same deadline.
func (p Placement) Within(d time.Duration) Placement {
	p.timeout = d
	return p
}

// Here places a route on the node that receives the request.
func Here() Placement { return Placement{kind: PlaceHere} }

// AtLeader places a route on the Raft leader.
func AtLeader() Placement { return Placement{kind: PlaceLeader} }

// AtOwner places a route on the owner of the key that key extracts.
func AtOwner(key KeyFunc) Placement { return Placement{kind: PlaceOwner, key: key} }

// AtOwnerBy places a route on the node owner names: a service that keeps
// its own ownership (leases) decides, and the router only forwards. Like
// AtOwner, a forwarded request is served where it lands, so the owner's
// handler must check again that it owns the object.
func AtOwnerBy(owner OwnerFunc) Placement { return Placement{kind: PlaceOwner, owner: owner} }

// AtNearest places a route on the nearest live node among those holders
// lists.
func AtNearest(holders HoldersFunc) Placement {
	return Placement{kind: PlaceNearest, holders: holders}
}

// PerRequest places each request where choose says, from what the request
// itself carries (a query parameter, a header): D1 serves a read here, but
// a read asking for consistency=strong on the leader. choose must not read
// the body (it may be forwarded) and must not return another PerRequest
// placement; a placement it returns that is itself per-request serves here.
func PerRequest(choose func(r *http.Request) Placement) Placement {
	return Placement{kind: PlaceHere, choose: choose}
}

// For returns the placement that serves r: p itself, or what a PerRequest
// placement chose for r.
func (p Placement) For(r *http.Request) Placement {
	if p.choose == nil {
		return p
	}
	q := p.choose(r)
	if q.choose != nil {
		return Here()
	}
	return q
}

// Kind reports the placement's kind.
func (p Placement) Kind() PlacementKind {
	if p.kind == "" {
		return PlaceHere
	}
	return p.kind
}
