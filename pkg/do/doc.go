// Package do is the Durable Objects service: named objects that exist once
// in the cluster, run their requests one at a time, and keep private
// transactional storage that survives the loss of any one node.
//
// # Pieces
//
//   - Namespaces are catalog resources (catalog.KindDONamespace) served by
//     the generic resource handlers (namespace.go).
//   - Object ids (ids.go): from a name, the HMAC-SHA256 of the name keyed by
//     the namespace id; unique ids are random and carry a MAC of the
//     namespace, with the first bit telling the two kinds apart.
//   - Liveness (pkg/do/lease): every node holds an epoch-based lease
//     recorded through Raft (this package's state machine, command type 3).
//   - Placement (placement.go): the rendezvous order of "nsID/objectID" over
//     every node of the liveness table (alive or not, restricted to the
//     namespace's location_hint region when that region has nodes). The
//     first R nodes are the replicas (R = Options.Replicas, capped by the
//     cluster's size); the owner is the first node of the order whose
//     liveness record is not dead. A node serves an object only while it is
//     its owner in its own view and its lease is valid; an expired owner
//     keeps its objects unavailable until some node declares it dead, so
//     two nodes never serve one object at once.
//   - Execution (actor.go): one actor per active object on its owner. The
//     input gate is a bounded queue (Options.GateSize); requests run one at
//     a time; each request's writes are one objstore Commit, answered only
//     once durable on a majority of the replicas (the output gate). On
//     first use the actor opens the object (objstore.Replicator.Open brings
//     this node to the newest acknowledged state). The actor stops when the
//     lease is lost, a Commit is superseded or it sits idle.
//   - HTTP (http*.go): the storage API under
//     /client/v4/accounts/{account_id}/durable_objects/namespaces/{ns}/objects/{id|by-name/name},
//     placed by the router at the object's owner (router.AtOwnerBy with this
//     package's Locator): a request reaching another node is forwarded one
//     hop; the owner checks again and answers 503 (code 1208) if it is not.
//
// # Adding routes
//
// Routes are built by small functions, one file per concern, each
// returning []service.Route (storageRoutes, whereRoutes, ...); Routes joins
// them. Use objectRoute for anything addressed to one object: it resolves
// the namespace and id, places the request at the owner, and hands the
// handler an *objectRequest. Module.Handle gives background code (alarms,
// WebSocket rooms) the owner's serialized access to an object.
package do
