package wsroom

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Message is one WebSocket message.
type Message struct {
	Binary bool
	Data   []byte
}

// Record is one broadcast as the room keeps it in its history: the message
// its recipients receive and the tags that selected them (none: everyone).
type Record struct {
	Binary bool     `json:"b,omitempty"`
	Data   []byte   `json:"d"`
	To     []string `json:"to,omitempty"`
}

// envelopePrefix starts a tag envelope.
var envelopePrefix = []byte(`{"$to":`)

// envelope is the JSON shape of a tag envelope.
type envelope struct {
	To   []string        `json:"$to"`
	Data json.RawMessage `json:"data"`
}

// parse turns a message received from a socket into the record to
// broadcast (see the package doc for the envelope).
func parse(m Message) Record {
	if m.Binary || !bytes.HasPrefix(m.Data, envelopePrefix) {
		return Record{Binary: m.Binary, Data: m.Data}
	}
	var env envelope
	if err := json.Unmarshal(m.Data, &env); err != nil || len(env.To) == 0 || ValidateTags(env.To) != nil || len(env.Data) == 0 {
		return Record{Data: m.Data}
	}
	data := []byte(env.Data)
	var s string
	if env.Data[0] == '"' && json.Unmarshal(env.Data, &s) == nil {
		data = []byte(s)
	}
	return Record{Data: data, To: env.To}
}

// selects reports whether a socket with tags receives r.
func (r Record) selects(tags []string) bool {
	if len(r.To) == 0 {
		return true
	}
	for _, t := range r.To {
		if slices.Contains(tags, t) {
			return true
		}
	}
	return false
}

// message is what a recipient of r receives.
func (r Record) message() Message { return Message{Binary: r.Binary, Data: r.Data} }
