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

// Kind reports the placement's kind.
func (p Placement) Kind() PlacementKind {
	if p.kind == "" {
		return PlaceHere
	}
	return p.kind
}
