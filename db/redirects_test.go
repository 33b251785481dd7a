package db_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/localpg"
	"github.com/shortlinks/shortlinks/db/pgtest"
)

// feedRecorder records what the change feed delivers.
type feedRecorder struct {
	mu      sync.Mutex
	changed []string
	resyncs int
	up      bool
}

func (r *feedRecorder) Changed(slug string) {
	r.mu.Lock()
	r.changed = append(r.changed, slug)
	r.mu.Unlock()
}
func (r *feedRecorder) Resync()           { r.mu.Lock(); r.resyncs++; r.mu.Unlock() }
func (r *feedRecorder) Connected(up bool) { r.mu.Lock(); r.up = up; r.mu.Unlock() }

func (r *feedRecorder) state() ([]string, int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.changed), r.resyncs, r.up
}

// waitUntil polls cond every 10 ms for up to d.
func waitUntil(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// The trigger announces exactly the changes that alter a redirect:
// creation (ends a cached 404), deactivation, a new destination, deletion,
// and changes made by hand in SQL, but not click-count updates.
func TestLinkChangesAnnounceRedirectChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewMigratedDatabase(t)
	conn, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := db.New(conn, db.Options{})
	rec := &feedRecorder{}
	feed := db.ListenLinkChanges(url, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer feed.Close()
	if !waitUntil(5*time.Second, func() bool { _, _, up := rec.state(); return up }) {
		t.Fatal("feed never connected")
	}

	l, _, err := s.GetOrCreateLink(ctx, siteLink("https://feed.example.com/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: l.ID, Day: monday, Clicks: 9}}}); err != nil {
		t.Fatal(err)
	}
	s.DB().MustExec(`UPDATE short_links SET is_active = is_active WHERE id = $1`, l.ID) // no real change
	if _, err := s.Deactivate(ctx, l.Slug); err != nil {
		t.Fatal(err)
	}
	s.DB().MustExec(`UPDATE short_links SET destination_url = 'https://feed.example.com/new' WHERE id = $1`, l.ID)
	s.DB().MustExec(`UPDATE short_links SET slug = 'renamed1' WHERE id = $1`, l.ID)
	s.DB().MustExec(`DELETE FROM short_links WHERE id = $1`, l.ID)

	// A marker sent after every change arrives after their notifications
	// (PostgreSQL delivers them in commit order), so once it is in, any
	// extra notification would be too.
	s.DB().MustExec(`SELECT pg_notify($1, 'end-marker')`, db.LinkChangesChannel)
	want := []string{l.Slug, l.Slug, l.Slug, l.Slug, "renamed1", "renamed1", "end-marker"}
	if !waitUntil(5*time.Second, func() bool { c, _, _ := rec.state(); return slices.Contains(c, "end-marker") }) {
		c, _, _ := rec.state()
		t.Fatalf("notifications %v, want %v", c, want)
	}
	if c, _, _ := rec.state(); !slices.Equal(c, want) {
		t.Errorf("notifications %v, want %v (insert, deactivate, new destination, rename old+new, delete)", c, want)
	}
}

// When the database goes away the feed says so, and when it returns the
// feed reconnects by itself and asks for a resync: notifications may have
// been missed in between.
func TestLinkChangesReconnectAndResync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, err := localpg.StartTemp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	rec := &feedRecorder{}
	feed := db.ListenLinkChanges(cluster.URL("postgres"), rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer feed.Close()
	if !waitUntil(5*time.Second, func() bool { _, _, up := rec.state(); return up }) {
		t.Fatal("feed never connected")
	}
	_, resyncs, _ := rec.state()
	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(5*time.Second, func() bool { _, _, up := rec.state(); return !up }) {
		t.Fatal("feed still reported up with the database stopped")
	}
	if err := cluster.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(15*time.Second, func() bool { _, r, up := rec.state(); return up && r > resyncs }) {
		t.Fatal("feed did not reconnect and resync")
	}
	conn, err := db.Open(ctx, cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.MustExec(`SELECT pg_notify($1, 'after-restart')`, db.LinkChangesChannel)
	if !waitUntil(5*time.Second, func() bool { c, _, _ := rec.state(); return slices.Contains(c, "after-restart") }) {
		t.Error("no notification after the reconnect")
	}
}

// One statement answers many slugs: found ones with their link, a
// superseded one with its survivor, unknown ones absent.
func TestRedirectTargets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	a, _, _ := s.GetOrCreateLink(ctx, siteLink("https://target.example.com/a"))
	b, _, _ := s.GetOrCreateLink(ctx, siteLink("https://target.example.com/b"))
	old := a.ID
	// b merged into a, as a heal leaves it; a is the survivor.
	s.DB().MustExec(`UPDATE short_links SET is_active = false, superseded_by = $1 WHERE id = $2`, old, b.ID)
	got, err := s.RedirectTargets(ctx, []string{a.Slug, "nope42", b.Slug})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(x, y db.RedirectTarget) int { return int(x.TappedID - y.TappedID) })
	want := []db.RedirectTarget{
		{Slug: a.Slug, ID: a.ID, DestinationURL: "https://target.example.com/a", IsActive: true, TappedID: a.ID},
		{Slug: b.Slug, ID: a.ID, DestinationURL: "https://target.example.com/a", IsActive: true, TappedID: b.ID},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got, err := s.RedirectTargets(ctx, []string{"nope42"}); err != nil || len(got) != 0 {
		t.Errorf("unknown slug alone: %+v, %v; want no rows", got, err)
	}
	if _, err := s.RedirectTargets(ctx, make([]string, db.MaxRedirectBatch+1)); !errors.Is(err, db.ErrInvalidInput) {
		t.Errorf("oversized batch: %v, want ErrInvalidInput", err)
	}
}
