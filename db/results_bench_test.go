package db_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// BenchmarkCampaignResults times the results at scale: RESULTS_BENCH_LINKS
// links (default 10 000 000) and RESULTS_BENCH_SENDS sends (default
// 1 000 000) over 200 000 businesses, sent evenly over the last 30 days
// (so the last day holds about 33 000 sends and the last week 233 000). Seeding
// takes minutes, so it runs only when asked:
//
//	TEST_DATABASE_URL=... go test ./db -run '^$' -bench CampaignResults -benchtime 200x
func BenchmarkCampaignResults(b *testing.B) {
	links, sends := envInt("RESULTS_BENCH_LINKS", 10_000_000), envInt("RESULTS_BENCH_SENDS", 1_000_000)
	s := newTestStore(b, db.Options{})
	ctx := context.Background()
	start := time.Now()
	seedResults(b, s, links, sends)
	b.Logf("seeded %d links, %d sends in %s", links, sends, time.Since(start).Round(time.Second))
	ago := func(days int) *time.Time { t := time.Now().AddDate(0, 0, -days); return &t }
	// Windows ending now read hours; one ending in the past hours and gaps
	// (the "week-ago-from-sends" round shows what it cost before those, and
	// every window before rollups).
	weekAgo, weekAgoEnd := ago(14), ago(7)
	got, err1 := s.CampaignResults(ctx, weekAgo, weekAgoEnd)
	want, err2 := s.ResultsFromSends(ctx, weekAgo, weekAgoEnd)
	if err1 != nil || err2 != nil || versionRows(got) != versionRows(want) {
		b.Fatalf("week ago: rollups\n%s\nsends\n%s%v %v", versionRows(got), versionRows(want), err1, err2)
	}
	for _, bb := range []struct {
		name         string
		since, until *time.Time
	}{{"all", nil, nil}, {"last-day", ago(1), nil}, {"last-week", ago(7), nil}, {"last-30-days", ago(30), nil},
		{"last-90-days", ago(90), nil}, {"week-ago", weekAgo, weekAgoEnd}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.CampaignResults(ctx, bb.since, bb.until); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("week-ago-from-sends", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ResultsFromSends(ctx, weekAgo, weekAgoEnd); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Results by template version: from the version rollups (by-version)
	// and, side by side, the aggregate over the window's sends every
	// by-version window ran before them (by-version-from-sends).
	for _, bb := range []struct {
		name  string
		since *time.Time
	}{{"all", nil}, {"last-day", ago(1)}, {"last-week", ago(7)}, {"last-30-days", ago(30)}, {"last-90-days", ago(90)}} {
		// At this scale too, the rollups answer what the sends do.
		fromRollups, err1 := s.CampaignResultsByVersion(ctx, bb.since, nil)
		fromSends, err2 := s.ResultsByVersionFromSends(ctx, bb.since, nil)
		if err1 != nil || err2 != nil || versionRows(fromRollups) != versionRows(fromSends) {
			b.Fatalf("%s: rollups\n%s\nsends\n%s%v %v", bb.name, versionRows(fromRollups), versionRows(fromSends), err1, err2)
		}
		b.Run("by-version/"+bb.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.CampaignResultsByVersion(ctx, bb.since, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("by-version-from-sends/"+bb.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.ResultsByVersionFromSends(ctx, bb.since, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// seedResults writes links, sends and the running totals and rollups
// (per variant and per template version) consistent with them, in bulk SQL.
func seedResults(b *testing.B, s *db.Store, links, sends int) {
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO businesses (id, name) SELECT md5('b' || i)::uuid, 'Business ' || i FROM generate_series(0, 199999) i`, nil},
		{`INSERT INTO short_links (slug, destination_url, business_id)
			SELECT 'L' || i, 'https://s' || i || '.example.com/', CASE WHEN i < 200000 THEN md5('b' || i)::uuid END
			FROM generate_series(0, $1::int - 1) i`, []any{links}},
		// Each business's sends embed its own link (ids start at 1). Sends
		// are inserted in sent_at order, as they are recorded.
		{`INSERT INTO campaign_sends (id, business_id, variant, message, link_id, slug, short_url, encoding,
				segments, cost_micros, currency, sent_at, clicks, template_version)
			SELECT md5('s' || i)::uuid, md5('b' || (i % 200000))::uuid, (ARRAY['friendly','professional','urgent'])[1 + i % 3],
				'Hello from Business ' || (i % 200000), 1 + i % 200000, 'L' || (i % 200000),
				'https://sho.rt/L' || (i % 200000), 'GSM-7', 1 + i % 2, 7900 * (1 + i % 2), 'USD',
				now() - ($1::int - 1 - i) * (interval '30 days' / $1::int), CASE WHEN i % 5 = 0 THEN 1 + i % 3 ELSE 0 END,
				NULLIF(i % 7 % 4 - 1, -1)
			FROM generate_series(0, $1::int - 1) i`, []any{sends}},
		{`INSERT INTO campaign_variant_businesses (variant, business_id, clicks, last_sent_at, last_clicked_at)
			SELECT variant, business_id, SUM(clicks), max(sent_at), max(sent_at) FILTER (WHERE clicks > 0)
			FROM campaign_sends GROUP BY variant, business_id`, nil},
		// The hour rollup as RecordSend and the flush keep it (00018, 00019).
		{`INSERT INTO campaign_variant_hours (variant, hour, sends, segments, cost_micros, clicks)
			SELECT variant, date_trunc('hour', sent_at, 'UTC'), COUNT(*), SUM(segments), SUM(cost_micros), SUM(clicks)
			FROM campaign_sends GROUP BY 1, 2`, nil},
		{`UPDATE campaign_variant_hours d SET businesses_sent_last = x.sent, businesses_clicked_last = x.clicked
			FROM (SELECT variant, hour, SUM(sent) AS sent, SUM(clicked) AS clicked FROM (
				SELECT variant, date_trunc('hour', last_sent_at, 'UTC') AS hour, 1 AS sent, 0 AS clicked
				FROM campaign_variant_businesses
				UNION ALL
				SELECT variant, date_trunc('hour', last_clicked_at, 'UTC'), 0, 1
				FROM campaign_variant_businesses WHERE last_clicked_at IS NOT NULL) u
			GROUP BY variant, hour) x
			WHERE d.variant = x.variant AND d.hour = x.hour`, nil},
		{`INSERT INTO campaign_variant_totals (variant, sends, businesses_sent, businesses_clicked, clicks, segments, cost_micros)
			SELECT variant, COUNT(*), COUNT(DISTINCT business_id), COUNT(DISTINCT business_id) FILTER (WHERE clicks > 0),
				SUM(clicks), SUM(segments), SUM(cost_micros)
			FROM campaign_sends GROUP BY variant`, nil},
		// The version rollups as RecordSend, VoidSend and the flush keep
		// them (00039's backfill; template versions NULL, 0, 1, 2).
		{`INSERT INTO campaign_version_businesses (variant, template_version, business_id, clicks, last_sent_at, last_clicked_at)
			SELECT variant, COALESCE(template_version, -1), business_id, SUM(clicks), max(sent_at),
				max(sent_at) FILTER (WHERE clicks > 0)
			FROM campaign_sends GROUP BY 1, 2, 3`, nil},
		{`INSERT INTO campaign_version_totals (variant, template_version, sends, businesses_sent, businesses_clicked, clicks, segments, cost_micros)
			SELECT variant, COALESCE(template_version, -1), COUNT(*), COUNT(DISTINCT business_id),
				COUNT(DISTINCT business_id) FILTER (WHERE clicks > 0), SUM(clicks), SUM(segments), SUM(cost_micros)
			FROM campaign_sends GROUP BY 1, 2`, nil},
		{`INSERT INTO campaign_version_hours (variant, template_version, hour, sends, segments, cost_micros, clicks,
				businesses_sent_last, businesses_clicked_last)
			SELECT variant, v, hour, SUM(sends), SUM(segments), SUM(cost_micros), SUM(clicks), SUM(sent), SUM(clicked) FROM (
				SELECT variant, COALESCE(template_version, -1) AS v, date_trunc('hour', sent_at, 'UTC') AS hour,
					1 AS sends, segments, cost_micros, clicks, 0 AS sent, 0 AS clicked
				FROM campaign_sends
				UNION ALL SELECT variant, template_version, date_trunc('hour', last_sent_at, 'UTC'), 0, 0, 0, 0, 1, 0
				FROM campaign_version_businesses
				UNION ALL SELECT variant, template_version, date_trunc('hour', last_clicked_at, 'UTC'), 0, 0, 0, 0, 0, 1
				FROM campaign_version_businesses WHERE last_clicked_at IS NOT NULL) u
			GROUP BY 1, 2, 3`, nil},
		// The gap rollups as 00042's backfill writes them.
		{`INSERT INTO campaign_variant_gaps (hour, variant, prev_hour, sends, tapped)
			SELECT hour, variant, prev_hour, SUM(sends), SUM(tapped) FROM (
				SELECT date_trunc('hour', sent_at, 'UTC') AS hour, variant, COALESCE(date_trunc('hour',
					lag(sent_at) OVER (PARTITION BY variant, business_id ORDER BY sent_at, id), 'UTC'), '-infinity') AS prev_hour,
					1 AS sends, 0 AS tapped
				FROM campaign_sends
				UNION ALL SELECT date_trunc('hour', sent_at, 'UTC'), variant, COALESCE(date_trunc('hour',
					lag(sent_at) OVER (PARTITION BY variant, business_id ORDER BY sent_at, id), 'UTC'), '-infinity'), 0, 1
				FROM campaign_sends WHERE clicks > 0) u
			GROUP BY 1, 2, 3`, nil},
		{`VACUUM ANALYZE`, nil},
	}
	for _, st := range steps {
		if _, err := s.DB().Exec(st.sql, st.args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, st.sql)
		}
	}
}
