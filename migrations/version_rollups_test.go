package migrations_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/db/pgtest"
)

// byVersion prints CampaignResultsByVersion one row per line, the version
// dereferenced, so answers compare as text.
func byVersion(t *testing.T, s *db.Store, since, until *time.Time) string {
	t.Helper()
	rows, err := s.CampaignResultsByVersion(context.Background(), since, until)
	if err != nil {
		t.Fatal(err)
	}
	return printVersions(rows)
}

func printVersions(rows []db.VariantResult) string {
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

// fromSends is byVersion aggregated from the sends (pgtest's oracle).
func fromSends(t *testing.T, conn *sqlx.DB, since, until *time.Time) string {
	t.Helper()
	var rows []db.VariantResult
	if err := conn.Select(&rows, pgtest.ResultsByVersionFromSends, since, until); err != nil {
		t.Fatal(err)
	}
	return printVersions(rows)
}

// Migration 00039 fills the per-version rollups from the sends before it
// (template versions NULL and set, voided sends left out, over several
// hours), as 00042 the gap rollups, and the store keeps them from there:
// results by version read from the rollups equal the sends aggregated, all
// time, for windows ending now and for windows ending in the past, before
// and after new sends, taps and voids of old sends.
func TestVersionRollupsMigrationBackfills(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const versionRollupsVersion = 39
	conn, m := migratedBefore(t, versionRollupsVersion)
	base := time.Now().UTC().Truncate(time.Hour).Add(-6 * time.Hour)
	conn.MustExec(`INSERT INTO businesses (id, name) SELECT ('00000000-0000-4000-8000-00000000000' || i)::uuid, 'B' || i
		FROM generate_series(1, 3) i`)
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, link_type, business_id)
		SELECT 'ver' || i, 'https://b' || i || '.example.com/', 'site_preview', ('00000000-0000-4000-8000-00000000000' || i)::uuid
		FROM generate_series(1, 3) i`)
	// business, variant, version (-1: NULL), minutes after base, clicks, voided
	sends := []struct {
		business       int
		variant        string
		version, after int
		clicks         int
		voided         bool
	}{
		{1, "friendly", -1, 10, 2, false},
		{1, "friendly", -1, 140, 0, false},
		{1, "friendly", 1, 185, 1, false},
		{2, "friendly", -1, 50, 0, true},
		{2, "friendly", -1, 240, 3, false},
		{2, "urgent", 0, 330, 0, false},
		{3, "urgent", -1, 75, 1, false},
		{3, "urgent", -1, 100, 0, false},
	}
	ids := make([]string, len(sends))
	for i, sn := range sends {
		ids[i] = fmt.Sprintf("00000000-0000-4000-9000-%012d", i+1)
		var voidedAt *time.Time
		if sn.voided {
			v := base.Add(time.Duration(sn.after+1) * time.Minute)
			voidedAt = &v
		}
		conn.MustExec(`INSERT INTO campaign_sends (id, business_id, variant, message, link_id, slug, short_url, encoding,
				segments, cost_micros, currency, sent_at, clicks, template_version, voided_at)
			SELECT $1, l.business_id, $3, 'm', l.id, l.slug, 'https://s/' || l.slug, 'GSM-7', 1 + $2 % 2, 7900 * (1 + $2 % 2),
			       'USD', $4, $5, NULLIF($6, -1), $7
			FROM short_links l WHERE l.slug = 'ver' || $2`,
			ids[i], sn.business, sn.variant, base.Add(time.Duration(sn.after)*time.Minute), sn.clicks, sn.version, voidedAt)
	}
	// The per-variant rollups as the code before 00039 kept them (VoidSend
	// and the flush need their rows).
	conn.MustExec(`INSERT INTO campaign_variant_businesses (variant, business_id, clicks, last_sent_at, last_clicked_at)
		SELECT variant, business_id, SUM(clicks), max(sent_at), max(sent_at) FILTER (WHERE clicks > 0)
		FROM campaign_sends WHERE voided_at IS NULL GROUP BY 1, 2`)
	conn.MustExec(`INSERT INTO campaign_variant_totals (variant, sends, businesses_sent, businesses_clicked, clicks, segments, cost_micros)
		SELECT variant, COUNT(*), COUNT(DISTINCT business_id), COUNT(DISTINCT business_id) FILTER (WHERE clicks > 0),
		       SUM(clicks), SUM(segments), SUM(cost_micros)
		FROM campaign_sends WHERE voided_at IS NULL GROUP BY 1`)
	conn.MustExec(`INSERT INTO campaign_variant_hours (variant, hour, sends, segments, cost_micros, clicks, businesses_sent_last, businesses_clicked_last)
		SELECT variant, hour, SUM(sends), SUM(segments), SUM(cost_micros), SUM(clicks), SUM(sent), SUM(clicked) FROM (
			SELECT variant, date_trunc('hour', sent_at, 'UTC') AS hour, 1 AS sends, segments, cost_micros, clicks, 0 AS sent, 0 AS clicked
			FROM campaign_sends WHERE voided_at IS NULL
			UNION ALL SELECT variant, date_trunc('hour', last_sent_at, 'UTC'), 0, 0, 0, 0, 1, 0 FROM campaign_variant_businesses
			UNION ALL SELECT variant, date_trunc('hour', last_clicked_at, 'UTC'), 0, 0, 0, 0, 0, 1
			FROM campaign_variant_businesses WHERE last_clicked_at IS NOT NULL) u
		GROUP BY 1, 2`)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	s := db.New(conn, db.Options{})

	at := func(minutes int) *time.Time { t := base.Add(time.Duration(minutes) * time.Minute); return &t }
	check := func(when string) {
		t.Helper()
		if got, want := byVersion(t, s, nil, nil), fromSends(t, conn, nil, nil); got != want {
			t.Errorf("%s, all time: rollups\n%s\nsends\n%s", when, got, want)
		}
		bounds := []*time.Time{at(-60), at(30), at(100), at(140), at(185), at(200), at(355)}
		for i, since := range bounds {
			if got, want := byVersion(t, s, since, nil), fromSends(t, conn, since, nil); got != want {
				t.Errorf("%s, since %s: rollups\n%s\nsends\n%s", when, since.Format(time.TimeOnly), got, want)
			}
			// Windows ending in the past read the gap rollups (00042's
			// backfill, then kept): held to the sends aggregated.
			for _, until := range bounds[i+1:] {
				if got, want := byVersion(t, s, since, until), fromSends(t, conn, since, until); got != want {
					t.Errorf("%s, [%s, %s): rollups\n%s\nsends\n%s", when, since.Format(time.TimeOnly),
						until.Format(time.TimeOnly), got, want)
				}
			}
		}
	}
	check("after the migration")
	if got, want := byVersion(t, s, nil, nil), `friendly v-: sends 3, businesses 2 sent 2 clicked, clicks 5, segments 5, cost 39500
friendly v1: sends 1, businesses 1 sent 1 clicked, clicks 1, segments 2, cost 15800
urgent v-: sends 2, businesses 1 sent 1 clicked, clicks 1, segments 4, cost 31600
urgent v0: sends 1, businesses 1 sent 0 clicked, clicks 0, segments 1, cost 7900
`; got != want {
		t.Errorf("all time after the migration:\n%s\nwant\n%s", got, want)
	}

	// A send of a new version to business 1, a tap on business 3's later
	// old send, a void of business 2's latest (tapped; its other NULL send
	// was voided before) and of business 1's tapped first send.
	var link db.Link
	if err := conn.Get(&link, `SELECT id, slug FROM short_links WHERE slug = 'ver1'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordSend(ctx, db.NewSend{BusinessID: "00000000-0000-4000-8000-000000000001", Variant: "friendly",
		Message: "m", LinkID: link.ID, Slug: link.Slug, ShortURL: "https://s/ver1", Encoding: "GSM-7", Segments: 1,
		CostMicros: 7900, Currency: "USD", TemplateVersion: 2}, db.Idempotency{Key: "now", RequestHash: []byte("now")}); err != nil {
		t.Fatal(err)
	}
	var link3 int64
	conn.Get(&link3, `SELECT id FROM short_links WHERE slug = 'ver3'`)
	if _, err := s.FlushClicks(ctx, db.ClickBatch{ID: db.NewBatchID(),
		Rows: []db.ClickRow{{LinkID: link3, Day: *at(101), Clicks: 2}},
		Taps: []db.TapRow{{Tapped: link3, Counted: link3, At: *at(101), Clicks: 2}}}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{4, 0} {
		if _, err := s.VoidSend(ctx, ids[i], "test"); err != nil {
			t.Fatal(err)
		}
	}
	check("after a send, a tap and voids")
	if got, want := byVersion(t, s, nil, nil), `friendly v-: sends 1, businesses 1 sent 0 clicked, clicks 0, segments 2, cost 15800
friendly v1: sends 1, businesses 1 sent 1 clicked, clicks 1, segments 2, cost 15800
friendly v2: sends 1, businesses 1 sent 0 clicked, clicks 0, segments 1, cost 7900
urgent v-: sends 2, businesses 1 sent 1 clicked, clicks 3, segments 4, cost 31600
urgent v0: sends 1, businesses 1 sent 0 clicked, clicks 0, segments 1, cost 7900
`; got != want {
		t.Errorf("all time after a send, a tap and voids:\n%s\nwant\n%s", got, want)
	}
}
