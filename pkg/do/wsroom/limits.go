package wsroom

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits of sockets, tags and messages.
const (
	// MaxTags is the most tags one socket may hold (as Cloudflare).
	MaxTags = 10
	// MaxTagBytes bounds one tag.
	MaxTagBytes = 256
	// MaxMessageBytes bounds one message.
	MaxMessageBytes = 1 << 20
	// MaxSockets bounds the sockets of one room (as Cloudflare's
	// hibernatable sockets per object).
	MaxSockets = 32768
	// MaxHistory bounds a namespace's websocket_history.
	MaxHistory = 1000
	// QueueMessages and QueueBytes bound one socket's send queue.
	QueueMessages = 256
	QueueBytes    = 16 << 20
)

// WebSocket close codes used by rooms.
const (
	// CloseNormal ends a socket normally (1000).
	CloseNormal = 1000
	// CloseGoingAway closes the client sockets a node relays when that node
	// shuts down (1001): reconnect through another node.
	CloseGoingAway = 1001
	// CloseTooBig closes a socket that sent a message over MaxMessageBytes (1009).
	CloseTooBig = 1009
	// CloseInternal closes a socket after a server-side failure (1011).
	CloseInternal = 1011
	// CloseObjectMoved closes every socket of an object whose ownership
	// moved: reconnect to reach the new owner.
	CloseObjectMoved = 4001
	// CloseSlowConsumer closes a socket whose send queue overflowed.
	CloseSlowConsumer = 4002
)

// Errors of joining and broadcasting.
var (
	// ErrBadTags is a tag list over the limits.
	ErrBadTags = errors.New("invalid websocket tags")
	// ErrRoomFull is a join to a room that holds MaxSockets sockets.
	ErrRoomFull = errors.New("websocket room full")
	// ErrTooLarge is a message over MaxMessageBytes.
	ErrTooLarge = errors.New("websocket message too large")
	// ErrClosed is a join to or broadcast in a room that is closing.
	ErrClosed = errors.New("websocket room closed")
	// ErrMoved means this node does not (or no longer) serve the object:
	// its sockets are closed with CloseObjectMoved and reconnect.
	ErrMoved = errors.New("object moved, reconnect")
)

// ValidateTags checks a socket's tags: at most MaxTags, each 1..MaxTagBytes
// bytes of valid UTF-8.
func ValidateTags(tags []string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%w: %d tags, at most %d", ErrBadTags, len(tags), MaxTags)
	}
	for _, t := range tags {
		if t == "" || len(t) > MaxTagBytes {
			return fmt.Errorf("%w: a tag must be 1..%d bytes", ErrBadTags, MaxTagBytes)
		}
		if !utf8.ValidString(t) {
			return fmt.Errorf("%w: a tag is not valid UTF-8", ErrBadTags)
		}
	}
	return nil
}
