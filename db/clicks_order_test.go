package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// recordSend records a send of variant to business b embedding link.
func recordSend(t *testing.T, s *db.Store, b db.Business, link db.Link, variant string) db.Send {
	t.Helper()
	key := db.NewBatchID()
	hash := sha256.Sum256([]byte(key))
	sn, created, err := s.RecordSend(context.Background(), db.NewSend{BusinessID: b.ID, Variant: variant, Message: "m",
		LinkID: link.ID, Slug: link.Slug, ShortURL: "https://sho.rt/" + link.Slug, Encoding: "GSM-7", Segments: 1,
		CostMicros: 7900, Currency: "USD"}, db.Idempotency{Key: key, RequestHash: hash[:]})
	if err != nil || !created {
		t.Fatalf("send: %v %t", err, created)
	}
	return sn
}

// newBusiness creates a business with its site link.
func newBusiness(t *testing.T, s *db.Store, name string) (db.Business, db.Link) {
	t.Helper()
	ctx := context.Background()
	url := "https://" + name + ".example.com/"
	b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: name, SiteURL: url})
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: url, LinkType: db.LinkTypeSitePreview, BusinessID: &b.ID})
	if err != nil {
		t.Fatal(err)
	}
	return b, l
}

func resultsByVariant(t *testing.T, s *db.Store) map[string]db.VariantResult {
	t.Helper()
	rows, err := s.CampaignResults(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]db.VariantResult{}
	for _, r := range rows {
		got[r.Variant] = r
	}
	return got
}

// A tap counts for a send only on the send's link (or a link merged into
// it). A tap on another link of the same business counts for the link and
// the business, never for a variant.
func TestTapsCountForASendOnlyOnItsLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	b, smsLink := newBusiness(t, s, "rosa")
	qr, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://rosa.example.com/menu", LinkType: "qr", BusinessID: &b.ID})
	if err != nil {
		t.Fatal(err)
	}
	sent := recordSend(t, s, b, smsLink, "friendly")
	at := sent.SentAt.Add(time.Minute)
	tap := func(link int64) {
		t.Helper()
		_, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(),
			Rows: []db.ClickRow{{LinkID: link, Day: at, Clicks: 1}},
			Taps: []db.TapRow{{Tapped: link, Counted: link, At: at, Clicks: 1}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	tap(qr.ID)
	if r := resultsByVariant(t, s)["friendly"]; r.Clicks != 0 || r.BusinessesClicked != 0 {
		t.Errorf("after a tap on the QR link only: friendly %+v, want 0 clicks, 0 businesses clicked", r)
	}
	totals, err := s.BusinessTotals(ctx, b.ID)
	if err != nil || totals.ClickCount != 1 {
		t.Errorf("business totals %+v, %v; want the QR tap counted (1)", totals.ClickCount, err)
	}

	// A duplicate of the SMS link, merged into it: its taps are the send's.
	dup := newLinks(t, s, 1)[0]
	s.DB().MustExec(`UPDATE short_links SET is_active = false, superseded_by = $2 WHERE id = $1`, dup, smsLink.ID)
	tap(smsLink.ID)
	tap(dup)
	if r := resultsByVariant(t, s)["friendly"]; r.Clicks != 2 || r.BusinessesClicked != 1 {
		t.Errorf("after taps on the SMS link and a link merged into it: friendly %+v, want 2 clicks, 1 business", r)
	}
}

// Several instances flush at once: taps on shared links, attributed to
// sends of several variants, with webhook endpoints queuing events. The
// statements lock in one order, so none deadlocks, and every total is
// exact: links, sends, variants, hour rollups, traffic, events.
func TestConcurrentFlushesWithSendsAndWebhooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	syncEndpoints(t, s, "https://hooks.example.com/a", "https://hooks.example.com/b")
	variants := []string{"friendly", "professional", "urgent"}
	var links []db.Link
	for i := range 9 {
		b, l := newBusiness(t, s, fmt.Sprintf("shop%d", i))
		recordSend(t, s, b, l, variants[i%3])
		links = append(links, l)
	}
	at := time.Now().Add(time.Minute)
	const flushers, rounds = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, flushers*rounds)
	for range flushers {
		wg.Go(func() {
			for range rounds {
				b := db.ClickBatch{ID: db.NewBatchID()}
				for _, p := range shuffled(len(links)) { // every batch taps every link, in its own order
					id := links[p].ID
					b.Rows = append(b.Rows, db.ClickRow{LinkID: id, Day: at, Clicks: 2, Previews: 1})
					b.Taps = append(b.Taps, db.TapRow{Tapped: id, Counted: id, At: at, Clicks: 2})
				}
				if _, err := s.FlushClicks(ctx, b); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err) // a deadlock would be "deadlock detected" here
	}
	const perLink = flushers * rounds * 2
	for _, l := range links {
		if c, p, dc, _ := counts(t, s, l.ID); c != perLink || p != perLink/2 || dc != perLink {
			t.Errorf("link %d: clicks %d previews %d daily %d; want %d, %d, %d", l.ID, c, p, dc, perLink, perLink/2, perLink)
		}
	}
	for _, v := range variants {
		r := resultsByVariant(t, s)[v]
		if r.Clicks != 3*perLink || r.BusinessesClicked != 3 {
			t.Errorf("%s: %+v; want %d clicks, 3 businesses clicked", v, r, 3*perLink)
		}
		var hours int64
		s.DB().Get(&hours, `SELECT COALESCE(SUM(clicks), 0) FROM campaign_variant_hours WHERE variant = $1`, v)
		if hours != 3*perLink {
			t.Errorf("%s: hour rollup %d clicks, want %d", v, hours, 3*perLink)
		}
	}
	var sends int64
	s.DB().Get(&sends, `SELECT SUM(clicks) FROM campaign_sends`)
	if sends != int64(len(links))*perLink {
		t.Errorf("sends hold %d clicks, want %d", sends, len(links)*perLink)
	}
	if got, summed := trafficTotals(t, s); got != summed || got.Clicks != int64(len(links))*perLink {
		t.Errorf("traffic totals %+v, links sum to %+v", got, summed)
	}
	if n := len(queuedEvents(t, s, db.EventLinkClicked)); n != 2*flushers*rounds*len(links) {
		t.Errorf("%d link.clicked events, want %d (one per link per flush per endpoint)", n, 2*flushers*rounds*len(links))
	}
}

// A batch whose ID was abandoned (the flusher gave up on it and split it)
// is never applied afterwards, even if an attempt of it arrives late; an
// abandon after it was applied says so.
func TestAbandonedBatchIsNeverApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 1)
	late := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: ids[0], Day: monday, Clicks: 5}}}
	if applied, err := s.AbandonClickBatch(ctx, late.ID); err != nil || applied {
		t.Fatalf("abandon of an unapplied batch: applied %t, %v", applied, err)
	}
	if applied, err := s.FlushClicks(ctx, late); err != nil || applied {
		t.Errorf("late attempt after abandon: applied %t, %v; want not applied", applied, err)
	}
	done := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: ids[0], Day: monday, Clicks: 2}}}
	if _, err := s.FlushClicks(ctx, done); err != nil {
		t.Fatal(err)
	}
	if applied, err := s.AbandonClickBatch(ctx, done.ID); err != nil || !applied {
		t.Errorf("abandon of an applied batch: applied %t, %v; want applied", applied, err)
	}
	if c, _, _, _ := counts(t, s, ids[0]); c != 2 {
		t.Errorf("clicks %d, want 2", c)
	}
}

// A dead letter keeps a batch's counts out of the totals until an admin
// replays it; the replay adds them once, however often it is pressed.
func TestDeadLetterReplaysOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 1)
	failed := db.NewBatchID()
	letter := db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: ids[0], Day: monday, Clicks: 4, Previews: 1}},
		Taps: []db.TapRow{{Tapped: ids[0], Counted: ids[0], At: monday, Clicks: 4}}}
	if applied, err := s.DeadLetterClicks(ctx, failed, letter, "timed out", 2); err != nil || applied {
		t.Fatalf("dead letter: applied %t, %v", applied, err)
	}
	list, err := s.ClickDeadLetters(ctx, 10)
	if err != nil || len(list) != 1 || list[0].Clicks != 4 || list[0].Slug == nil {
		t.Fatalf("letters %+v, %v; want one of 4 clicks on a live link", list, err)
	}
	if c, _, _, _ := counts(t, s, ids[0]); c != 0 {
		t.Errorf("clicks %d before the replay, want 0", c)
	}
	admin := db.WithActor(ctx, db.Actor{Kind: db.ActorUser, Name: "ops@example.com"})
	if _, err := s.ReplayClickDeadLetter(admin, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplayClickDeadLetter(admin, list[0].ID); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("second replay: %v, want ErrNotFound", err)
	}
	// The audit trail has the one replay, by who pressed it.
	if page, err := s.ListAudit(ctx, db.AuditFilter{Action: db.AuditClicksReplayed}); err != nil ||
		len(page.Entries) != 1 || page.Entries[0].Actor != "ops@example.com" {
		t.Errorf("replay audit rows %+v, %v; want one by ops@example.com", page.Entries, err)
	}
	if c, p, _, _ := counts(t, s, ids[0]); c != 4 || p != 1 {
		t.Errorf("after the replay: clicks %d previews %d, want 4, 1", c, p)
	}
	if tot, err := s.ClickDeadLetterTotals(ctx); err != nil || tot.Letters != 0 {
		t.Errorf("letters left %+v, %v", tot, err)
	}
}

// A walk of a clicks order while flushes move counts returns every link
// exactly once, or is told its cursor is stale, and a walk started again
// completes. The load is 1,000 taps/s flushed as an instance does by
// default: every second, each flush tapping a random half of the links (the
// walk pages 50 at a time, as the check did). How many restarts a
// walk needs depends on how long a page takes against the flush interval:
// the figure is logged (docs/benchmarks.md quotes it); the test only bounds
// it loosely, so a loaded machine running -race does not fail it.
func TestClicksWalkNeverSkipsOrRepeats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	var ids []int64
	if err := s.DB().Select(&ids, `INSERT INTO short_links (slug, destination_url, link_type)
		SELECT 'walk' || i, 'https://walk' || i || '.example.com/', 'sms' FROM generate_series(1, 400) i
		RETURNING id`); err != nil {
		t.Fatal(err)
	}
	for _, sort := range []db.LinkSort{db.SortMostClicks, db.SortFewestClicks} {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 1)
		wg.Go(func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				b := db.ClickBatch{ID: db.NewBatchID()}
				for _, p := range shuffled(len(ids))[:200] {
					b.Rows = append(b.Rows, db.ClickRow{LinkID: ids[p], Day: monday, Clicks: int64(4 + i%3)})
				}
				if _, err := s.FlushClicks(ctx, b); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
		walks, stale, restarts, most := 0, 0, 0, 0
		for walks < 5 {
			seen, err := walkLinks(ctx, s, sort)
			if errors.Is(err, db.ErrCursorStale) {
				stale++
				if restarts++; restarts > 20 {
					t.Fatalf("%s: a walk was refused %d times in a row", sort, restarts)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			walks, most, restarts = walks+1, max(most, restarts), 0
			if len(seen) != len(ids) {
				t.Errorf("%s: a walk that completed saw %d links, want %d", sort, len(seen), len(ids))
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s: link %d listed %d times", sort, id, n)
				}
			}
		}
		close(stop)
		wg.Wait()
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		t.Logf("%s: %d complete walks, %d refused as stale, at most %d restarts in a row", sort, walks, stale, most)
	}
}

// The cursor is refused exactly when a flush it did not see moved a count
// across it: a move elsewhere in the order leaves it valid.
func TestClicksCursorStaleOnlyWhenCrossed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	ids := newLinks(t, s, 4)
	flush := func(id, clicks int64) {
		t.Helper()
		if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: []db.ClickRow{{LinkID: id, Day: monday, Clicks: clicks}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		flush(id, int64(10*(i+1))) // 10, 20, 30, 40
	}
	page, err := s.ListLinks(ctx, db.ListFilter{Sort: db.SortMostClicks, Limit: 2}) // 40, 30 | 20, 10
	if err != nil || page.Next == nil {
		t.Fatal(page, err)
	}
	next := db.ListFilter{Sort: db.SortMostClicks, Limit: 2, Cursor: page.Next}
	flush(ids[3], 5) // 40 -> 45, above the cursor (30): nothing crosses
	if _, err := s.ListLinks(ctx, next); err != nil {
		t.Fatalf("a move above the cursor: %v, want the next page", err)
	}
	flush(ids[0], 25) // 10 -> 35: jumps over the cursor, would be skipped
	if _, err := s.ListLinks(ctx, next); !errors.Is(err, db.ErrCursorStale) {
		t.Errorf("a move across the cursor: %v, want ErrCursorStale", err)
	}
}

// walkLinks follows next cursors through a whole listing, 50 links a page,
// counting how often each link is listed.
func walkLinks(ctx context.Context, s *db.Store, sort db.LinkSort) (map[int64]int, error) {
	seen := map[int64]int{}
	f := db.ListFilter{Sort: sort, Limit: 50}
	for {
		page, err := s.ListLinks(ctx, f)
		if err != nil {
			return seen, err
		}
		for _, l := range page.Links {
			seen[l.ID]++
		}
		if page.Next == nil {
			return seen, nil
		}
		f.Cursor = page.Next
	}
}

// A results window ending now is read from the hour rollups and the last
// send columns; it must agree exactly with aggregating the window's sends.
func TestResultsWindowFromRollupsMatchesTheSends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	var links []db.Link
	for i := range 6 {
		b, l := newBusiness(t, s, fmt.Sprintf("win%d", i))
		recordSend(t, s, b, l, []string{"friendly", "urgent"}[i%2])
		if i%3 == 0 {
			recordSend(t, s, b, l, "friendly") // a business sent to twice
		}
		links = append(links, l)
	}
	at := time.Now().Add(time.Minute)
	for i, l := range links[:4] {
		if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(),
			Rows: []db.ClickRow{{LinkID: l.ID, Day: at, Clicks: int64(i + 1)}},
			Taps: []db.TapRow{{Tapped: l.ID, Counted: l.ID, At: at, Clicks: int64(i + 1)}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, since := range []time.Time{time.Now().Add(-24 * time.Hour), time.Now().Add(-time.Hour), time.Now().Add(time.Hour)} {
		fromRollups, err := s.CampaignResults(ctx, &since, nil)
		if err != nil {
			t.Fatal(err)
		}
		fromSends, err := s.ResultsFromSends(ctx, &since, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(fromRollups) != fmt.Sprint(fromSends) {
			t.Errorf("since %s: rollups %+v, sends %+v", since.Format(time.RFC3339), fromRollups, fromSends)
		}
		if since.Before(time.Now()) && len(fromRollups) != 2 {
			t.Errorf("since %s: %d variants, want 2", since.Format(time.RFC3339), len(fromRollups))
		}
	}
}
