package web

import (
	"fmt"
	"testing"
)

// A flood of distinct clients keeps memory bounded and never shares a
// bucket: every new client starts with its full burst.
func TestKeyedLimiterBoundedWithoutSharing(t *testing.T) {
	k := newKeyedLimiter(5, 5)
	k.maxClients = 100
	for i := range 1000 {
		key := fmt.Sprintf("10.0.%d.%d", i/250, i%250)
		for j := range 5 {
			if ok, _ := k.Allow(key); !ok {
				t.Fatalf("client %d, attempt %d: refused within its own burst", i, j+1)
			}
		}
		if ok, _ := k.Allow(key); ok {
			t.Fatalf("client %d: a 6th attempt passed", i)
		}
	}
	if n := k.tracked(); n > 100 {
		t.Errorf("%d clients tracked, cap is 100", n)
	}
}

// A refund gives the token back even after time has passed (where
// x/time/rate's Cancel restores nothing), never beyond the burst.
func TestKeyedLimiterRefund(t *testing.T) {
	k := newKeyedLimiter(5, 5)
	for range 50 {
		ok, _, refund := k.Reserve("192.0.2.1")
		if !ok {
			t.Fatal("refunded attempts used up the allowance")
		}
		refund()
		refund() // twice: still at most the burst
	}
	for i := range 5 {
		if ok, _ := k.Allow("192.0.2.1"); !ok {
			t.Fatalf("attempt %d of the burst refused", i+1)
		}
	}
	if ok, _ := k.Allow("192.0.2.1"); ok {
		t.Error("refunds lifted the bucket above its burst")
	}
}
