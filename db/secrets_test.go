package db_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/shortlinks/shortlinks/db"
)

// Instances booting together on one database each offer their own random
// secret; they must all end up with the same one, and keep it later.
func TestAppSecretConcurrentFirstBoots(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	const n = 8
	got := make(chan []byte, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			candidate := make([]byte, 32)
			rand.Read(candidate)
			<-start
			v, err := s.AppSecret(ctx, "session", candidate)
			if err != nil {
				errs <- err
				return
			}
			got <- v
		}()
	}
	close(start)
	var first []byte
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case v := <-got:
			if len(v) != 32 {
				t.Fatalf("secret of %d bytes", len(v))
			}
			if first == nil {
				first = v
			} else if !bytes.Equal(v, first) {
				t.Fatal("two instances got different secrets")
			}
		}
	}
	later, err := s.AppSecret(ctx, "session", bytes.Repeat([]byte{1}, 32))
	if err != nil || !bytes.Equal(later, first) {
		t.Fatalf("a later boot got another secret (%v)", err)
	}
}
