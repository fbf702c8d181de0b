// Package objstore is the storage of Durable Objects: every object's
// private, transactional key-value storage and alarm, kept on this node in
// one pebble database (Store) and replicated to the object's replica set by
// a ballot-fenced, Paxos-style protocol over gRPC (Replicator, service
// DOReplica in proto/edge/v1/do.proto).
//
// # Use
//
// The owner of an object calls Replicator.Open with the object's replica
// set (node ids, the owner among them) and gets an *Object: it reads
// locally (Get, List, Alarm, Size) and writes with Commit, which returns
// once the write is durable on a majority of the replica set, the owner
// included. Object keys are the full "nsID/objectID" (a namespace id of
// letters, digits, '-' and '_', then the object's 64 lowercase hex
// digits). Values are opaque bytes (the API stores JSON). An owner that
// lost its lease, or whose Commit failed, calls Object.Close; the next
// owner (or the same node) calls Open again.
//
// # On disk
//
// One pebble database per node (the service's data directory). Per object:
// its entries under 'e' + len(obj) + obj + key, so one object's keys are
// one range in UTF-8 byte order; and one metadata record under 'm' + obj:
// the promised ballot, the accepted ballot, the sequence number, the alarm,
// the byte size and the replica set recorded with the state. Every change
// (a promise, a write, a whole state) is one pebble batch committed with
// Sync, so entries and metadata change together and are on disk before
// anything is acknowledged.
//
// # Protocol
//
// A ballot is (counter, node id), ordered by counter then node id; only its
// node may use it (the gRPC server checks the caller's certificate against
// the ballot when the cluster runs mutual TLS, and the node's interceptor
// admits only members). Two nodes holding the same (accepted ballot, seq)
// hold the same state: only the holder of a ballot writes under it, one
// sequence number at a time.
//
//   - Open prepares a new ballot, above every one it saw, on every replica
//     and waits for a majority of them (plus WithPrepareGrace for the
//     rest). It then also prepares on a majority of the replica set
//     recorded with the newest state found, again until the newest state's
//     set is covered: an acknowledged write lives on a majority of the set
//     it was written under, and every majority of that set intersects the
//     promises Open collects. It adopts the newest state (highest accepted
//     ballot, then highest seq), fetched from a holder when this node lacks
//     it (FetchState), and writes it under the new ballot to a majority:
//     an Accept with no ops where a replica holds that state, the whole
//     state (InstallState) elsewhere. Replicas that promised a higher
//     ballot make Open retry with a higher one (8 tries, random pauses).
//   - Commit checks the storage cap, sends Accept(ballot, base = (ballot,
//     seq), seq+1, ops) to every replica while it writes locally, and
//     returns once a majority (this node included) applied it. A replica
//     applies only when the ballot is at least its promise and its state is
//     exactly the base; one that promised a higher ballot answers
//     superseded, and Commit returns ErrSuperseded. One that is behind or
//     diverged (it missed writes, restarted from an older state, held a
//     previous owner's unacknowledged write) answers with what it holds and
//     gets the whole state, then follows write by write again: never a gap.
//   - Each replica of an open object has a follower goroutine that sends
//     the commits in order and retries with backoff (20 ms to 2 s) while
//     the replica is unreachable. A follower keeps the operations of up to
//     64 commits; past that, the replica gets the whole state when it is
//     back.
//
// Guarantees (and the tests that show them): a write Commit acknowledged
// survives the loss of its owner and of any minority of its replica set,
// kill -9 included (TestAcknowledgedWritesSurviveOwnerAndMinorityLoss,
// TestCrashKeepsAcknowledgedWrites, TestCrashedReplicaRestartsAndCatchesUp);
// of two owners, only the newest ballot gets writes acknowledged and
// nothing acknowledged by either is lost
// (TestLowerBallotIsSuperseded, TestConcurrentOwnersLoseNoAcknowledgedWrite);
// a replica that missed writes is caught up
// (TestReplicaThatMissedWritesCatchesUp); replica sets that change one
// member at a time keep every acknowledged write, even when the new set's
// members never held the object (TestReplicaSetChangeKeepsAcknowledgedWrites,
// TestRecordedSetIsConsulted). An object whose replica set loses a majority
// at once is unavailable (Open returns ErrNoQuorum) until enough of them are
// back: serving it would risk losing acknowledged writes.
//
// # Bounds
//
// Key: valid UTF-8, at most MaxKeyBytes (2048); key plus value at most
// MaxEntryBytes (2 MiB); at most MaxOpsPerCommit (256) operations and
// MaxCommitBytes (32 MiB) per Commit, so one Accept fits a gRPC message;
// at most MaxReplicas (16) replicas; per object at most Options.StorageCap
// bytes of keys and values (default 1 GiB), enforced by the owner (a write
// that only shrinks an object over the cap passes). A whole state moves in
// chunks of about 4 MiB of entries; the receiver holds it in memory until
// the last chunk and then installs it in one batch, so a transfer costs up
// to the object's size in memory. Every field of every replica call is
// validated as strictly as the public API's input (ValidateObj, ValidateOps,
// ValidateReplicas, ballots, sequence arithmetic, chunk order and counts);
// FuzzReplicaRequests feeds arbitrary messages.
//
// # Metrics
//
// edge_do_replication_lag_seconds{replica}: per replica node, the age of the
// oldest write this node (as owner) committed that the replica has not
// acknowledged, the maximum over the objects open here; 0 when none, and
// reported for this node and the WithPeers nodes even before any write.
// edge_do_replica_requests_total{rpc,result},
// edge_do_storage_commits_total{result},
// edge_do_storage_commit_duration_seconds, edge_do_state_transfers_total
// {direction} and edge_do_storage_opens_total{result} count the rest.
//
// # Contract notes
//
// Beyond the shared contract: WithResolver (node id to gRPC address) is
// required to reach other nodes; WithPeers, WithRegisterer, WithLogger,
// WithCallTimeout and WithPrepareGrace are optional; Replicator.Close
// closes every open Object (call it before Store.Close); Object.Ballot,
// Object.Replicas, Object.Seq and Object.Size describe an open object;
// AlarmOp builds an OpSetAlarm; after a Commit error other than ErrInvalid
// or ErrStorageFull the Object is broken (the write's outcome is unknown)
// and must be reopened.
package objstore
