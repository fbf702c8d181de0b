package router

import (
	"sync"
	"testing"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// TestPoolAsksCredentialsPerAddress: every new connection gets the
// credentials PoolConfig.Credentials returns for its address, once.
func TestPoolAsksCredentialsPerAddress(t *testing.T) {
	var mu sync.Mutex
	asked := map[string]int{}
	p, err := NewPool(PoolConfig{Credentials: func(addr string) credentials.TransportCredentials {
		mu.Lock()
		defer mu.Unlock()
		asked[addr]++
		return insecure.NewCredentials()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, addr := range []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:1"} {
		if _, err := p.Client(addr); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if asked["127.0.0.1:1"] != 1 || asked["127.0.0.1:2"] != 1 || len(asked) != 2 {
		t.Fatalf("credentials asked %v, want once per address", asked)
	}
}
