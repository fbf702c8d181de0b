// Package alarm delivers Durable Object alarms.
//
// Every object has at most one alarm: a time in milliseconds since the Unix
// epoch, stored in the object's replicated storage (objstore.OpSetAlarm). The
// node that owns an object runs its alarm: a Scheduler keeps one entry per
// owned object with an alarm, ordered in a heap, and when one falls due it
// POSTs a JSON Delivery to the namespace's alarm webhook with a bounded
// timeout. A 2xx answer is a success; anything else is retried with
// exponential backoff (2 s, 4 s, 8 s, ...) for at most six tries in all.
// After the success, or the last failure, the alarm is cleared through the
// object (a replicated write of "no alarm") unless it was set to another time
// meanwhile, in which case the new time is scheduled.
//
// # Delivery guarantee
//
// At least once across failover, once per schedule in the common case. The
// alarm lives in the object's storage, so it survives the loss of its owner:
// the Scheduler rescans the alarms stored on this node (Objects.Pending) every
// ScanInterval and takes those of the objects this node owns now, so a new
// owner picks up its alarms within one scan of serving the object. Retry
// counts are not replicated: an alarm in retry on a failed owner starts again
// at retry_count 0 on the next. A delivery already sent when its owner died
// is sent again by the next owner; the Delivery's idempotency_id (a hash of
// the object and the scheduled time) is the same both times, so a webhook can
// drop the duplicate.
//
// Before each try the Scheduler checks, under the object's input gate, that
// this node still serves the object and that its alarm is still the one being
// delivered; a deleted or moved alarm is never delivered by a node that lost
// it. The webhook is called from whichever node owns the object at that
// moment, so it must be reachable from every node that may own it.
package alarm
