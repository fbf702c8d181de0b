// Package objstore is the storage of Durable Objects: every object's
// private, transactional key-value storage and alarm, kept on this node in
// one pebble database (Store) and replicated to the object's replica set by
// a ballot-fenced, Paxos-style protocol over gRPC (Replicator, service
// DOReplica in proto/edge/v1/do.proto).
//
// Object keys are the full "nsID/objectID" (namespace id, then the object's
// 64 lowercase hex digits). Values are opaque bytes (the API stores JSON).
//
// The owner of an object calls Replicator.Open with the object's replica
// set and gets an *Object: it reads locally (Get, List, Alarm) and writes
// with Commit, which returns once the write is durable on a majority of the
// replica set (the owner included). Only the holder of the newest ballot can
// get a write acknowledged; an older holder's Commit returns ErrSuperseded.
package objstore
