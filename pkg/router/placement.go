package router

import "net/http"

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

// Placement is where a route is served. Build one with Here, AtLeader,
// AtOwner or AtNearest; the zero value is Here.
type Placement struct {
	kind    PlacementKind
	key     KeyFunc
	holders HoldersFunc
	choose  func(r *http.Request) Placement
}

// Here places a route on the node that receives the request.
func Here() Placement { return Placement{kind: PlaceHere} }

// AtLeader places a route on the Raft leader.
func AtLeader() Placement { return Placement{kind: PlaceLeader} }

// AtOwner places a route on the owner of the key that key extracts.
func AtOwner(key KeyFunc) Placement { return Placement{kind: PlaceOwner, key: key} }

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
