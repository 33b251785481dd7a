package db_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// recordVersionSend records a send of variant, rendered from version, to
// business b embedding link.
func recordVersionSend(ctx context.Context, s *db.Store, b db.Business, link db.Link, variant string, version int) (db.Send, error) {
	key := db.NewBatchID()
	hash := sha256.Sum256([]byte(key))
	sn, created, err := s.RecordSend(ctx, db.NewSend{BusinessID: b.ID, Variant: variant, Message: "m",
		LinkID: link.ID, Slug: link.Slug, ShortURL: "https://sho.rt/" + link.Slug, Encoding: "GSM-7",
		Segments: 1 + version%2, CostMicros: 7900 * int64(1+version%2), Currency: "USD", TemplateVersion: version},
		db.Idempotency{Key: key, RequestHash: hash[:]})
	if err == nil && !created {
		err = fmt.Errorf("send not created")
	}
	return sn, err
}

// tapSend flushes clicks taps on the send's link at its sent_at, which the
// flush attributes to it (the latest send of the link at or before then).
func tapSend(ctx context.Context, s *db.Store, sn db.Send, clicks int64) error {
	_, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(),
		Rows: []db.ClickRow{{LinkID: sn.LinkID, Day: sn.SentAt, Clicks: clicks}},
		Taps: []db.TapRow{{Tapped: sn.LinkID, Counted: sn.LinkID, At: sn.SentAt, Clicks: clicks}}})
	return err
}

// versionRows prints results by version one per line, the version
// dereferenced ("-" for none), so two answers compare as text.
func versionRows(rows []db.VariantResult) string {
	var b strings.Builder
	for _, r := range rows {
		v := "-"
		if r.TemplateVersion != nil {
			v = fmt.Sprint(*r.TemplateVersion)
		}
		fmt.Fprintf(&b, "%s v%s: sends %d, businesses %d sent %d clicked, clicks %d, segments %d, cost %d\n",
			r.Variant, v, r.Sends, r.BusinessesSent, r.BusinessesClicked, r.Clicks, r.Segments, r.CostMicros)
	}
	return b.String()
}

// checkByVersionMatchesSends compares CampaignResultsByVersion read from
// the rollups (all time; windows ending now, ending in the future and
// ending in the past, since each of sinces) with the same windows
// aggregated from the sends, to the unit.
func checkByVersionMatchesSends(t *testing.T, s *db.Store, sinces ...time.Time) {
	t.Helper()
	ctx := context.Background()
	check := func(name string, since, until *time.Time) {
		t.Helper()
		got, err1 := s.CampaignResultsByVersion(ctx, since, until)
		want, err2 := s.ResultsByVersionFromSends(ctx, since, until)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if versionRows(got) != versionRows(want) {
			t.Errorf("%s: rollups\n%s\nsends\n%s", name, versionRows(got), versionRows(want))
		}
	}
	farFuture, now := time.Now().Add(24*time.Hour), time.Now()
	check("all time", nil, nil)
	check("until tomorrow", nil, &farFuture)
	check("until now", nil, &now)
	for _, since := range sinces {
		at := since.Format(time.RFC3339Nano)
		check("since "+at, &since, nil)
		check("since "+at+" until tomorrow", &since, &farFuture)
		check("since "+at+" until now", &since, &now)
	}
}

// Results by version read from the rollups equal the sends aggregated:
// several versions of two variants, businesses sent to again (same and
// other versions), taps on older and newer sends, voids of a tapped send,
// of a business's latest and of its only send.
func TestResultsByVersionFromRollupsMatchTheSends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	type fx struct {
		b    db.Business
		link db.Link
	}
	var fs []fx
	for i := range 5 {
		b, l := newBusiness(t, s, fmt.Sprintf("ver%d", i))
		fs = append(fs, fx{b, l})
	}
	var sends []db.Send
	send := func(i int, variant string, version int) db.Send {
		t.Helper()
		sn, err := recordVersionSend(ctx, s, fs[i].b, fs[i].link, variant, version)
		if err != nil {
			t.Fatal(err)
		}
		sends = append(sends, sn)
		return sn
	}
	tap := func(sn db.Send, clicks int64) {
		t.Helper()
		if err := tapSend(ctx, s, sn, clicks); err != nil {
			t.Fatal(err)
		}
	}
	void := func(sn db.Send) {
		t.Helper()
		if _, err := s.VoidSend(ctx, sn.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	a0 := send(0, "friendly", 0)
	tap(a0, 2)
	a1 := send(0, "friendly", 0) // again, same version: one business
	send(0, "friendly", 1)       // and a newer version
	b0 := send(1, "friendly", 1)
	tap(b0, 1)
	c0 := send(2, "urgent", 0)
	tap(c0, 3)
	c1 := send(2, "urgent", 0)
	tap(c1, 1)
	d0 := send(3, "urgent", 2)
	e0 := send(4, "friendly", 1)
	tap(e0, 4)
	mid := time.Now()
	send(4, "friendly", 1)
	send(3, "urgent", 2)
	checkByVersionMatchesSends(t, s, time.Now().Add(-24*time.Hour), time.Now().Add(-30*time.Minute), a1.SentAt, mid)

	void(c1)   // tapped, the business's latest of the version: it falls back to c0
	void(d0)   // not its latest
	void(b0)   // the business's only send of the version, tapped
	tap(a1, 1) // the tap goes to a1 (the latest send of the link at its time)
	checkByVersionMatchesSends(t, s, time.Now().Add(-time.Hour), a0.SentAt, a1.SentAt, mid)

	all, err := s.CampaignResultsByVersion(ctx, nil, nil)
	if err != nil || len(all) != 4 {
		t.Fatalf("all time %s, %v; want 4 versions", versionRows(all), err)
	}
	if r := all[0]; r.Variant != "friendly" || *r.TemplateVersion != 0 || r.Sends != 2 || r.BusinessesSent != 1 || r.BusinessesClicked != 1 || r.Clicks != 3 {
		t.Errorf("friendly v0: %s", versionRows(all[:1]))
	}
	if r := all[1]; r.Variant != "friendly" || *r.TemplateVersion != 1 || r.Sends != 3 || r.BusinessesSent != 2 || r.BusinessesClicked != 1 || r.Clicks != 4 {
		t.Errorf("friendly v1 (b0 voided): %s", versionRows(all[1:2]))
	}
}

// Sends, taps and voids from many goroutines at once leave the version
// rollups exact, and no statement deadlocks (the lock order holds).
func TestResultsByVersionExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	type fx struct {
		b    db.Business
		link db.Link
	}
	var fs []fx
	for i := range 4 {
		b, l := newBusiness(t, s, fmt.Sprintf("conc%d", i))
		fs = append(fs, fx{b, l})
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 12 {
				f := fs[(w+i)%len(fs)]
				sn, err := recordVersionSend(ctx, s, f.b, f.link, []string{"friendly", "urgent"}[i%2], (w+i)%3)
				if err != nil {
					errs <- fmt.Errorf("send: %w", err)
					return
				}
				if i%3 == 0 {
					if err := tapSend(ctx, s, sn, int64(1+w%2)); err != nil {
						errs <- fmt.Errorf("flush: %w", err)
						return
					}
				}
				if i%5 == 4 {
					if _, err := s.VoidSend(ctx, sn.ID, "test"); err != nil {
						errs <- fmt.Errorf("void: %w", err)
						return
					}
				}
			}
		}()
	}
	// Flushes tapping every business's links while the sends go on.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 30 {
			rows := make([]db.ClickRow, 0, len(fs))
			taps := make([]db.TapRow, 0, len(fs))
			at := time.Now()
			for _, f := range fs {
				rows = append(rows, db.ClickRow{LinkID: f.link.ID, Day: at, Clicks: 1})
				taps = append(taps, db.TapRow{Tapped: f.link.ID, Counted: f.link.ID, At: at, Clicks: 1})
			}
			if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(), Rows: rows, Taps: taps}); err != nil {
				errs <- fmt.Errorf("flush: %w", err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkByVersionMatchesSends(t, s, start, start.Add(time.Millisecond*50), time.Now().Add(-time.Hour))
}
