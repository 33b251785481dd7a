package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// installSendClock makes this test database's sends sent at
// clock_timestamp() minus a shift the test sets (shiftSends): sends
// recorded through RecordSend then land in past hours and days, in any
// order, as a history built over weeks would.
func installSendClock(t *testing.T, s *db.Store) {
	t.Helper()
	s.DB().MustExec(`CREATE TABLE test_send_clock (shift interval NOT NULL);
		INSERT INTO test_send_clock VALUES ('0');
		CREATE FUNCTION test_sent_at() RETURNS timestamptz LANGUAGE sql VOLATILE
			AS $$ SELECT clock_timestamp() - (SELECT shift FROM test_send_clock) $$;
		ALTER TABLE campaign_sends ALTER COLUMN sent_at SET DEFAULT test_sent_at()`)
}

func shiftSends(s *db.Store, back time.Duration) error {
	_, err := s.DB().Exec(`UPDATE test_send_clock SET shift = make_interval(secs => $1)`, back.Seconds())
	return err
}

// gapsDrift lists the gap rows that differ from the chains of the sends
// (00042's backfill, computed again), in both directions.
const gapsDrift = `WITH want AS (
		SELECT hour, variant, version, prev_hour, SUM(sends) AS sends, SUM(tapped) AS tapped FROM (
			SELECT date_trunc('hour', sent_at, 'UTC') AS hour, variant, v AS version,
			       COALESCE(date_trunc('hour', lag(sent_at) OVER w, 'UTC'), '-infinity') AS prev_hour, 1 AS sends, 0 AS tapped
			FROM (SELECT *, CASE WHEN $1 THEN COALESCE(template_version, -1) ELSE 0 END AS v FROM campaign_sends) c
			WHERE voided_at IS NULL
			WINDOW w AS (PARTITION BY variant, v, business_id ORDER BY sent_at, id)
			UNION ALL
			SELECT date_trunc('hour', sent_at, 'UTC'), variant, v,
			       COALESCE(date_trunc('hour', lag(sent_at) OVER w, 'UTC'), '-infinity'), 0, 1
			FROM (SELECT *, CASE WHEN $1 THEN COALESCE(template_version, -1) ELSE 0 END AS v FROM campaign_sends) c
			WHERE voided_at IS NULL AND clicks > 0
			WINDOW w AS (PARTITION BY variant, v, business_id ORDER BY sent_at, id)) chain
		GROUP BY 1, 2, 3, 4
	), have AS (
		SELECT hour, variant, 0 AS version, prev_hour, sends, tapped FROM campaign_variant_gaps WHERE NOT $1
		UNION ALL
		SELECT hour, variant, template_version, prev_hour, sends, tapped FROM campaign_version_gaps WHERE $1
	), nonzero AS (
		SELECT hour, variant, version, prev_hour, sends::bigint, tapped::bigint FROM have WHERE sends <> 0 OR tapped <> 0
	)
	SELECT format('missing %s', w) FROM (SELECT hour, variant, version, prev_hour, sends::bigint, tapped::bigint FROM want
	                                     EXCEPT SELECT * FROM nonzero) w
	UNION ALL
	SELECT format('extra %s', h) FROM (SELECT * FROM nonzero
	                                   EXCEPT SELECT hour, variant, version, prev_hour, sends::bigint, tapped::bigint FROM want) h`

// Sends recorded out of order over three days, taps (first taps of old and
// new sends) and voids, from several goroutines at once, leave the gap
// rollups exactly what the sends' chains say; every results window (ending
// in the past, with no start, across whole hours or inside one) reads, per
// variant and per version, what aggregating its sends gives; and so does
// every list of a variant's businesses (ending now or in the past, all or
// tapped only, cut short or not).
func TestResultWindowsOverDaysMatchTheSends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	installSendClock(t, s)
	type fx struct {
		b    db.Business
		link db.Link
	}
	var fs []fx
	for i := range 12 {
		b, l := newBusiness(t, s, fmt.Sprintf("gap%d", i))
		fs = append(fs, fx{b, l})
	}
	const span = 72 * time.Hour
	var (
		mu    sync.Mutex
		sends []db.Send
		wg    sync.WaitGroup
	)
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range 30 {
				if err := shiftSends(s, time.Duration(rng.Int64N(int64(span)))); err != nil {
					errs <- err
					return
				}
				f := fs[rng.IntN(len(fs))]
				sn, err := recordVersionSend(ctx, s, f.b, f.link, []string{"friendly", "urgent"}[rng.IntN(2)], rng.IntN(3))
				if err != nil {
					errs <- fmt.Errorf("send: %w", err)
					return
				}
				mu.Lock()
				sends = append(sends, sn)
				old := sends[rng.IntN(len(sends))]
				mu.Unlock()
				switch {
				case i%4 == 0: // the new send, or an older one, tapped
					if rng.IntN(2) == 0 {
						sn = old
					}
					if err := tapSend(ctx, s, sn, int64(1+rng.IntN(3))); err != nil {
						errs <- fmt.Errorf("flush: %w", err)
						return
					}
				case i%7 == 6:
					if _, err := s.VoidSend(ctx, old.ID, "test"); err != nil {
						errs <- fmt.Errorf("void: %w", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for _, byVersion := range []bool{false, true} {
		var drift []string
		if err := s.DB().Select(&drift, gapsDrift, byVersion); err != nil {
			t.Fatal(err)
		}
		for _, d := range drift {
			t.Errorf("by version %t: gap row %s", byVersion, d)
		}
	}

	now := time.Now()
	hour := now.UTC().Truncate(time.Hour)
	rng := rand.New(rand.NewPCG(7, 7))
	var bounds []time.Time
	for range 12 {
		bounds = append(bounds, now.Add(-time.Duration(rng.Int64N(int64(span+time.Hour)))))
	}
	bounds = append(bounds, hour.Add(-24*time.Hour), hour.Add(-5*time.Hour), hour.Add(-5*time.Hour+time.Second),
		hour.Add(-90*time.Minute), now.Add(-time.Minute))
	check := func(name string, since, until *time.Time) {
		t.Helper()
		for _, split := range []struct {
			name         string
			read, oracle func(context.Context, *time.Time, *time.Time) ([]db.VariantResult, error)
		}{{"variant", s.CampaignResults, s.ResultsFromSends}, {"version", s.CampaignResultsByVersion, s.ResultsByVersionFromSends}} {
			got, err1 := split.read(ctx, since, until)
			want, err2 := split.oracle(ctx, since, until)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if versionRows(got) != versionRows(want) {
				t.Errorf("%s, by %s: rollups\n%s\nsends\n%s", name, split.name, versionRows(got), versionRows(want))
			}
		}
	}
	windows := 0
	for i, since := range bounds {
		check(fmt.Sprintf("until %s", since.Format(time.RFC3339Nano)), nil, &since)
		for _, until := range bounds[i+1:] {
			a, b := since, until
			if b.Before(a) {
				a, b = b, a
			}
			check(fmt.Sprintf("[%s, %s)", a.Format(time.RFC3339Nano), b.Format(time.RFC3339Nano)), &a, &b)
			windows++
		}
	}
	t.Logf("%d sends, %d windows", len(sends), windows)

	lists := 0
	future := now.Add(time.Hour)
	listWindows := [][2]*time.Time{{nil, nil}, {nil, &future}, {&bounds[0], nil}, {&bounds[3], &future},
		{&bounds[12], nil}, {&bounds[14], nil}, {nil, &bounds[5]}, {&bounds[13], &bounds[16]}, {&bounds[12], &bounds[15]}}
	// A past window's list: walked (the default walk holds all 120 sends),
	// and, walking 3 sends, walked when 3 sends find the page and grouped
	// when they do not.
	for _, batch := range []int{0, 3} {
		s := db.New(s.DB(), db.Options{VariantWalk: batch})
		for _, w := range listWindows {
			if w[0] != nil && w[1] != nil && w[1].Before(*w[0]) {
				w[0], w[1] = w[1], w[0]
			}
			for _, variant := range []string{"friendly", "urgent"} {
				for _, tappedOnly := range []bool{false, true} {
					for _, limit := range []int{2, 500} {
						got, err1 := s.VariantBusinesses(ctx, variant, tappedOnly, w[0], w[1], limit)
						want, err2 := s.VariantBusinessesFromSends(ctx, variant, tappedOnly, w[0], w[1], limit)
						if err1 != nil || err2 != nil {
							t.Fatal(err1, err2)
						}
						if fmt.Sprint(got) != fmt.Sprint(want) {
							t.Errorf("%s businesses, tapped only %t, limit %d, [%v, %v), walk %d:\n got %v\nwant %v",
								variant, tappedOnly, limit, w[0], w[1], batch, got, want)
						}
						lists++
					}
				}
			}
		}
	}
	t.Logf("%d business lists", lists)
}
