package db_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

func siteLink(url string) db.LinkRequest {
	return db.LinkRequest{DestinationURL: url, LinkType: "site_preview"}
}

// The original bug: concurrent preview requests each created a link. Here 200
// callers race for one destination and must all get the one link.
func TestGetOrCreateLinkConcurrentCallersShareOneLink(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	const callers = 200
	url := "https://bakery.example.com/"
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		slugs   = make([]string, callers)
		created = make([]bool, callers)
		errs    = make([]error, callers)
	)
	for i := range callers {
		wg.Go(func() {
			<-start
			l, c, err := s.GetOrCreateLink(context.Background(), siteLink(url))
			slugs[i], created[i], errs[i] = l.Slug, c, err
		})
	}
	close(start)
	wg.Wait()

	creators := 0
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if slugs[i] != slugs[0] {
			t.Fatalf("caller %d got slug %q, caller 0 got %q", i, slugs[i], slugs[0])
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Errorf("%d callers saw created=true, want exactly 1", creators)
	}
	if n := countActive(t, s, url); n != 1 {
		t.Errorf("%d active links for the destination, want 1", n)
	}
	var total int
	s.DB().Get(&total, `SELECT COUNT(*) FROM short_links`)
	if total != 1 {
		t.Errorf("%d rows in short_links, want 1 (no losers left behind)", total)
	}
}

// The isolation case: a get-or-create that meets an uncommitted insert of the
// same destination waits for it, then returns the winner's link on commit or
// creates its own on rollback.
func TestGetOrCreateLinkWaitsForUncommittedInsert(t *testing.T) {
	t.Parallel()
	for _, commit := range []bool{true, false} {
		name := map[bool]string{true: "commit", false: "rollback"}[commit]
		t.Run(name, func(t *testing.T) {
			s := newTestStore(t, db.Options{})
			ctx := context.Background()
			url := "https://florist.example.com/" + name
			tx := s.DB().MustBegin()
			defer tx.Rollback()
			var txSlug string
			if err := tx.Get(&txSlug, `INSERT INTO short_links (slug, destination_url, link_type)
				VALUES ('tx1abc', $1, 'site_preview') RETURNING slug`, url); err != nil {
				t.Fatal(err)
			}

			type result struct {
				link    db.Link
				created bool
				err     error
			}
			done := make(chan result, 1)
			go func() {
				l, c, err := s.GetOrCreateLink(ctx, siteLink(url))
				done <- result{l, c, err}
			}()
			select {
			case r := <-done:
				t.Fatalf("get-or-create returned %+v before transaction 1 ended; it must block on the pending insert", r)
			case <-time.After(300 * time.Millisecond):
			}

			if commit {
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			} else if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if commit && (r.link.Slug != txSlug || r.created) {
				t.Errorf("after commit got slug %q created=%t, want transaction 1's %q, created=false", r.link.Slug, r.created, txSlug)
			}
			if !commit && (r.link.Slug == txSlug || !r.created) {
				t.Errorf("after rollback got slug %q created=%t, want a new link, created=true", r.link.Slug, r.created)
			}
			if n := countActive(t, s, url); n != 1 {
				t.Errorf("%d active links, want 1", n)
			}
		})
	}
}

// A generated slug that collides with an existing one is replaced, and a
// generator that only ever collides fails cleanly after a bounded number of
// tries instead of looping or inserting anything.
func TestGetOrCreateLinkRetriesSlugCollisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("retry succeeds", func(t *testing.T) {
		script := []string{"AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"}
		var calls int
		s := newTestStore(t, db.Options{NewSlug: func() (string, error) {
			slug := script[min(calls, len(script)-1)]
			calls++
			return slug, nil
		}})
		first, _, err := s.GetOrCreateLink(ctx, siteLink("https://a.example.com/"))
		if err != nil || first.Slug != "AAAAAA" {
			t.Fatalf("first link: %q, %v", first.Slug, err)
		}
		second, created, err := s.GetOrCreateLink(ctx, siteLink("https://b.example.com/"))
		if err != nil {
			t.Fatal(err)
		}
		if second.Slug != "BBBBBB" || !created {
			t.Errorf("second link slug %q created=%t, want BBBBBB after two collisions", second.Slug, created)
		}
	})
	t.Run("one-character alphabet exhausts", func(t *testing.T) {
		s := newTestStore(t, db.Options{SlugAlphabet: "x", SlugLength: 3})
		if _, _, err := s.GetOrCreateLink(ctx, siteLink("https://a.example.com/")); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.GetOrCreateLink(ctx, siteLink("https://b.example.com/"))
		if err == nil || !strings.Contains(err.Error(), "collisions") {
			t.Fatalf("got %v, want a slug-collision error", err)
		}
		if n := countActive(t, s, "https://b.example.com/"); n != 0 {
			t.Errorf("%d links inserted for the failed request, want 0", n)
		}
	})
}

// Destinations past the ~2.7 kB btree limit must work: the index is on a hash.
func TestGetOrCreateLinkLongDestination(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	url := "https://shop.example.com/?q=" + strings.Repeat("x", 4000-len("https://shop.example.com/?q="))
	if len(url) != 4000 {
		t.Fatalf("test url is %d bytes", len(url))
	}
	first, created, err := s.GetOrCreateLink(ctx, siteLink(url))
	if err != nil || !created {
		t.Fatalf("create: created=%t err=%v", created, err)
	}
	again, created, err := s.GetOrCreateLink(ctx, siteLink(url))
	if err != nil || created || again.Slug != first.Slug {
		t.Fatalf("second call: slug %q created=%t err=%v, want %q", again.Slug, created, err, first.Slug)
	}
	if again.DestinationURL != url {
		t.Error("destination was not stored byte for byte")
	}
}

func TestLinkTypesAreSeparate(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	a, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://x.example.com/", LinkType: "site_preview"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://x.example.com/", LinkType: "campaign"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Slug == b.Slug {
		t.Error("two link types share one link; each type must have its own")
	}
}

func TestDeactivateActivate(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	url := "https://plumber.example.com/"
	old, _, _ := s.GetOrCreateLink(ctx, siteLink(url))
	if l, err := s.Deactivate(ctx, old.Slug); err != nil || l.IsActive {
		t.Fatalf("deactivate: %+v %v", l, err)
	}
	// With the old link inactive, a new request creates a fresh link...
	fresh, created, err := s.GetOrCreateLink(ctx, siteLink(url))
	if err != nil || !created || fresh.Slug == old.Slug {
		t.Fatalf("after deactivation: %q created=%t %v", fresh.Slug, created, err)
	}
	// ...and the old one cannot come back while the fresh one is active.
	if _, err := s.Activate(ctx, old.Slug); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("activate with another active link: %v, want ErrConflict", err)
	}
	if _, err := s.Deactivate(ctx, fresh.Slug); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Activate(ctx, old.Slug); err != nil || !l.IsActive {
		t.Fatalf("activate once free: %+v %v", l, err)
	}
	if _, err := s.Activate(ctx, "nosuch"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("activate unknown slug: %v, want ErrNotFound", err)
	}
}
