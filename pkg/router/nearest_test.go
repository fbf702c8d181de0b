package router

import (
	"slices"
	"testing"
	"time"
)

func ids(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.NodeID
	}
	return out
}

func TestNearest(t *testing.T) {
	local := Candidate{NodeID: "self", Region: "eu-west"}
	ms := time.Millisecond
	tests := []struct {
		name  string
		cands []Candidate
		want  []string
	}{
		{
			name: "known RTT ascending",
			cands: []Candidate{
				{NodeID: "c", Region: "us-east", RTT: 80 * ms, RTTKnown: true},
				{NodeID: "a", Region: "eu-west", RTT: 3 * ms, RTTKnown: true},
				{NodeID: "b", Region: "ap-south", RTT: 40 * ms, RTTKnown: true},
			},
			want: []string{"a", "b", "c"},
		},
		{
			name: "unknown after known, same region first among unknown",
			cands: []Candidate{
				{NodeID: "far-unknown", Region: "us-east"},
				{NodeID: "near-unknown", Region: "eu-west"},
				{NodeID: "known-far", Region: "ap-south", RTT: 200 * ms, RTTKnown: true},
			},
			want: []string{"known-far", "near-unknown", "far-unknown"},
		},
		{
			name: "ties by id",
			cands: []Candidate{
				{NodeID: "z", RTT: 5 * ms, RTTKnown: true},
				{NodeID: "y", RTT: 5 * ms, RTTKnown: true},
				{NodeID: "q", Region: "eu-west"},
				{NodeID: "p", Region: "eu-west"},
				{NodeID: "n", Region: "us-east"},
				{NodeID: "m", Region: "ap-south"},
			},
			want: []string{"y", "z", "p", "q", "m", "n"},
		},
		{
			name: "an RTT of zero is not unknown",
			cands: []Candidate{
				{NodeID: "unknown-local", Region: "eu-west"},
				{NodeID: "zero", RTT: 0, RTTKnown: true},
			},
			want: []string{"zero", "unknown-local"},
		},
		{name: "empty", cands: nil, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.cands)
			got := ids(Nearest(local, tt.cands))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Nearest = %v, want %v", got, tt.want)
			}
			if !slices.Equal(in, tt.cands) {
				t.Fatal("Nearest modified its input")
			}
		})
	}
}

func TestNearestEmptyRegionIsNotAMatch(t *testing.T) {
	got := ids(Nearest(Candidate{NodeID: "self"}, []Candidate{{NodeID: "b", Region: "x"}, {NodeID: "a"}}))
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Nearest = %v, want [a b] (no region match, by id)", got)
	}
}
