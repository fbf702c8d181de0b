package do

import (
	"errors"
	"strings"
	"testing"
)

func TestIDs(t *testing.T) {
	a := FromName("ns1", "alice")
	if a != FromName("ns1", "alice") {
		t.Fatal("FromName is not deterministic")
	}
	if a == FromName("ns2", "alice") || a == FromName("ns1", "bob") {
		t.Fatal("FromName collides across namespaces or names")
	}
	if len(a) != IDLen || IsUnique(a) {
		t.Fatalf("name id %q: length %d unique %v", a, len(a), IsUnique(a))
	}
	if _, err := Parse("ns1", a); err != nil {
		t.Fatalf("Parse(name id): %v", err)
	}
	u := NewUnique("ns1")
	if len(u) != IDLen || !IsUnique(u) || u == NewUnique("ns1") {
		t.Fatalf("unique id %q", u)
	}
	if _, err := Parse("ns1", u); err != nil {
		t.Fatalf("Parse(unique id): %v", err)
	}
	if _, err := Parse("ns2", u); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("a unique id of another namespace parsed: %v", err)
	}
	for _, bad := range []string{"", "abc", strings.ToUpper(a), a[:63] + "g", a + "0"} {
		if _, err := Parse("ns1", bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Parse(%q) = %v, want ErrInvalidID", bad, err)
		}
	}
}

// TestIDKindsDoNotCollide: many names and unique ids never share an id,
// since the first bit tells the kinds apart.
func TestIDKindsDoNotCollide(t *testing.T) {
	for i := 0; i < 2000; i++ {
		if IsUnique(FromName("ns", strings.Repeat("x", i%50)+string(rune('a'+i%26)))) {
			t.Fatal("a name id has the unique bit")
		}
		if !IsUnique(NewUnique("ns")) {
			t.Fatal("a unique id lacks the unique bit")
		}
	}
}
