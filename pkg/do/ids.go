package do

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// IDLen is the length of an object id: 32 bytes in lowercase hex.
const IDLen = 64

// uniqueBit marks unique ids in the first byte; ids from names have it
// clear, so the two kinds never collide.
const uniqueBit = 0x80

// ErrInvalidID is an object id that is not 64 lowercase hex digits, or a
// unique id that the namespace did not make.
var ErrInvalidID = errors.New("invalid durable object id")

// FromName returns the id of the object named name in namespace ns: the
// HMAC-SHA256 of the name keyed by the namespace id, with the unique bit
// cleared. The same name gives the same id on every node, and different
// ids in different namespaces.
func FromName(ns, name string) string {
	sum := mac(ns, []byte(name))
	sum[0] &^= uniqueBit
	return hex.EncodeToString(sum)
}

// NewUnique returns a new random id of namespace ns: 16 random bytes and
// the first 16 bytes of their HMAC keyed by the namespace id, with the
// unique bit set. Parse recognizes it as made by ns.
func NewUnique(ns string) string {
	var b [32]byte
	_, _ = rand.Read(b[:16]) // crypto/rand.Read never fails (Go 1.24+)
	b[0] |= uniqueBit
	copy(b[16:], mac(ns, b[:16])[:16])
	return hex.EncodeToString(b[:])
}

// IsUnique reports whether a valid id was made by NewUnique.
func IsUnique(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == 32 && b[0]&uniqueBit != 0
}

// Parse checks that id is an object id of namespace ns: 64 lowercase hex
// digits, and, for a unique id, made by ns.
func Parse(ns, id string) (string, error) {
	if len(id) != IDLen {
		return "", fmt.Errorf("object id %q: %d characters, want %d: %w", id, len(id), IDLen, ErrInvalidID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("object id %q: not lowercase hex: %w", id, ErrInvalidID)
		}
	}
	b, _ := hex.DecodeString(id)
	if b[0]&uniqueBit != 0 && !hmac.Equal(b[16:], mac(ns, b[:16])[:16]) {
		return "", fmt.Errorf("object id %q: not an id of this namespace: %w", id, ErrInvalidID)
	}
	return id, nil
}

func mac(key string, msg []byte) []byte {
	h := hmac.New(sha256.New, []byte(key))
	h.Write(msg)
	return h.Sum(nil)
}
