// Package wsroom runs the WebSocket rooms of Durable Objects.
//
// Each object has at most one room, on the node that owns the object. A
// socket joins the room with up to MaxTags tags; every text or binary
// message a socket sends is broadcast to the room's other sockets, in one
// order for the whole room. A client's socket may reach any node: a node
// that does not own the object relays the socket to the owner over the
// DORoom gRPC stream (relay.go), so the room sees every socket alike.
//
// # Selecting recipients by tag
//
// A text message whose first bytes are `{"$to":` is a tag envelope:
//
//	{"$to": ["blue", "red"], "data": <any JSON value>}
//
// It goes only to the other sockets holding at least one of the listed tags
// (1..MaxTags tags, each 1..MaxTagBytes bytes). What they receive is data:
// the string itself when data is a JSON string, else data's JSON text. Any
// other message, including an envelope that does not parse as one, goes to
// every other socket unchanged. Binary messages always go to every other
// socket.
//
// # History
//
// With the namespace's websocket_history = N > 0, the last N broadcast
// messages are written through the object's storage (History, a replicated
// write) before they are sent, and replayed to each new socket (those
// selected by tags only to sockets holding one of them) before any live
// message. N = 0 keeps nothing.
//
// # Limits and close codes
//
// A message is at most MaxMessageBytes (a larger one closes its sender with
// 1009). Each socket has a bounded send queue (QueueMessages messages,
// QueueBytes bytes); a socket that falls that far behind is closed with
// CloseSlowConsumer (4002) and never slows the room. A room holds at most
// MaxSockets sockets. When the object's ownership moves (or the owner stops
// serving it), every socket is closed with CloseObjectMoved (4001, "object
// moved, reconnect"): the client reconnects and reaches the new owner.
package wsroom
