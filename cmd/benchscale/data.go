package main

import (
	"fmt"
	"math/big"
	"strings"
)

// The dataset looks like the real thing where search cost comes from:
// every name, city, host and path is drawn at random (a hash of the row
// number), so no search finds its rows in an alphabetical block or in
// creation order. Hosts share "https://", "www." and common words
// (bakery, pizza, .com), business names carry apostrophes and accents
// (Rosa's, Café, Crêperie), and cities have accents (San José, Łódź).
//
// Every statement takes the same parameters: $1 links, $2 businesses,
// $3 and $4 a multiplier and its inverse modulo $1 (permutation), which
// scatter the businesses' site links over the id (and so time) order.

// Word lists. Each has a length that the SQL below reads with len().
var (
	owners = []string{"Rosa's", "José's", "Zoë's", "Müller's", "O'Brien's", "Ana's", "Luigi's", "Kim's", "Nguyen's",
		"Patel's", "Señor", "Café", "Crème", "Golden", "Blue", "Urban", "Sunny", "Royal", "Happy", "Green", "Silver",
		"Main Street", "Corner", "Family", "Downtown", "Harbor", "Maple", "Oak", "Cedar", "Pine", "River", "Lake",
		"Hilltop", "Village", "Old Town", "Little", "Big", "Best", "Smart", "Fresh"}
	trades = []string{"Bakery", "Pizza", "Dental", "Auto Repair", "Salon", "Fitness", "Florist", "Law Office",
		"Pet Care", "Café", "Roofing", "Yoga", "Tattoo", "Bookshop", "Barber", "Nails", "Sushi", "Tacos", "Grill",
		"Bistro", "Plumbing", "Cleaning", "Vet Clinic", "Spa", "Coffee", "Deli", "Pharmacy", "Hardware", "Print Shop",
		"Photography", "Bike Shop", "Garden Center", "Laundry", "Daycare", "Tailor", "Jewelry", "Optician", "Bagels",
		"Crêperie", "Ice Cream"}
	suffixes = []string{"", "", "", "", "", "", "", "", "", "", "& Co", "Express", "Plus", "House", "Studio",
		"Bar", "Kitchen", "Center", "Place", "Works", "Market", "Lounge", "Depot", "Hub", "Shop", "Club", "Supply",
		"Factory", "Garage", "Gallery", "Outlet", "Company", "Brothers", "& Sons", "Collective", "Lab", "Co-op",
		"Corner", "Station", "Boutique"}
	cities = []string{"Austin", "San José", "Montréal", "Québec", "Bogotá", "Springfield", "Riverside", "Franklin",
		"Greenville", "Bristol", "Clinton", "Fairview", "Salem", "Madison", "Georgetown", "Arlington", "Ashland",
		"Dover", "Oxford", "Jackson", "Burlington", "Manchester", "Milton", "Newport", "Auburn", "Mérida", "Córdoba",
		"São Paulo", "Zürich", "Malmö", "Kraków", "Łódź", "Dallas", "Denver", "Portland", "Boise", "Tulsa", "Omaha",
		"Reno", "Tucson"}
	tlds  = []string{"com", "com", "com", "com", "com", "net", "co", "org", "shop", "biz"}
	paths = []string{"", "menu", "book", "offers/spring", "p/gift-card", "contact", "blog/opening-hours",
		"shop/new-arrivals", "specials", "order-online", "catering", "reviews", "events/summer-sale", "coupons/10-off",
		"appointments", "careers", "about-us", "gallery", "locations", "faq"}
	campaignWords = []string{"spring", "summer", "fall", "winter", "holiday", "launch", "promo", "newsletter",
		"reopening", "anniversary"}
)

// sqlArray is a text[] literal of words.
func sqlArray(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", "''") + "'"
	}
	return "ARRAY[" + strings.Join(q, ",") + "]::text[]"
}

// hostWord is a word as it appears in a host: ASCII letters only.
func hostWord(w string) string {
	fold := strings.NewReplacer("é", "e", "è", "e", "ê", "e", "ë", "e", "ü", "u", "ñ", "n", "ô", "o", "ö", "o",
		"ó", "o", "á", "a", "ã", "a", "ł", "l", "Ł", "l", "ź", "z", "ç", "c")
	var b strings.Builder
	for _, r := range strings.ToLower(fold.Replace(w)) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hostWords(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = hostWord(w)
	}
	return out
}

// rnd is a pseudo-random non-negative int of x (a bigint expression) for
// one purpose (salt): the same row always draws the same value.
func rnd(x string, salt int) string {
	return fmt.Sprintf("(hashint8((%s) * 1009 + %d) & 2147483647)", x, salt)
}

// pick draws one of words for row x.
func pick(words []string, x string, salt int) string {
	return fmt.Sprintf("(%s)[1 + %s %% %d]", sqlArray(words), rnd(x, salt), len(words))
}

// The parts of business g (a bigint expression, 1..$2).
func nameSQL(g string) string {
	return fmt.Sprintf("rtrim(%s || ' ' || %s || ' ' || %s)", pick(owners, g, 1), pick(trades, g, 2), pick(suffixes, g, 3))
}
func citySQL(g string) string { return pick(cities, g, 4) }

// hostSQL is a host no other business has (the number), built of the
// business's words.
func hostSQL(g string) string {
	return fmt.Sprintf("(%s || %s || %s || '.' || %s)", pick(hostWords(owners), g, 1), pick(hostWords(trades), g, 2), g, pick(tlds, g, 5))
}
func schemeSQL(g string) string {
	return fmt.Sprintf("(CASE WHEN %s %% 10 = 0 THEN 'http://' ELSE 'https://' END)", rnd(g, 6))
}
func wwwSQL(g string) string {
	return fmt.Sprintf("(CASE WHEN %s %% 10 < 7 THEN 'www.' ELSE '' END)", rnd(g, 7))
}
func siteSQL(g string) string {
	return fmt.Sprintf("(%s || %s || %s || '/')", schemeSQL(g), wwwSQL(g), hostSQL(g))
}

// permutation returns a multiplier coprime with n and its inverse modulo n:
// k = (d-1)*mult mod n visits 0..n-1 once each, scattered.
func permutation(n int64) (mult, inverse int64) {
	for _, p := range []int64{1_000_003, 1_000_033, 1_000_037} {
		if n%p != 0 {
			mult = p
			break
		}
	}
	inv := new(big.Int).ModInverse(big.NewInt(mult), big.NewInt(n))
	if inv == nil { // n == 1
		return mult, 0
	}
	return mult, inv.Int64()
}

// businessesSQL: $2 businesses, 90% ready for outreach.
var businessesSQL = `INSERT INTO businesses (id, name, city, phone, status, created_at, search_text)
	SELECT id, name, city, phone, status, created_at, concat_ws(' | ', search_normalize(name), search_normalize(city))
	FROM (SELECT md5('b' || g)::uuid AS id, ` + nameSQL("g") + ` AS name, ` + citySQL("g") + ` AS city,
	             '+1555' || lpad((g % 10000000)::text, 7, '0') AS phone,
	             CASE WHEN g % 10 = 9 THEN 'do_not_contact' ELSE 'ready_for_outreach' END AS status,
	             timestamptz '2025-01-01 00:00Z' + (` + rnd("g", 8) + ` % 600) * interval '1 day' AS created_at
	      FROM generate_series(1, $2::bigint) g
	      WHERE $1::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0) b`

// sitesSQL: one site per business.
var sitesSQL = `INSERT INTO sites (id, business_id, url, created_at)
	SELECT md5('s' || g)::uuid, md5('b' || g)::uuid, ` + siteSQL("g") + `,
	       timestamptz '2025-01-01 00:00Z' + (` + rnd("g", 8) + ` % 600) * interval '1 day'
	FROM generate_series(1, $2::bigint) g
	WHERE $1::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0`

// linksSQL: $1 links. Destination d's place in the permutation, k, decides
// what it is: k < $2 is business k+1's site_preview link (its site URL);
// the rest are campaign, sms, email, social and qr links of a random
// business, to a page of its site (one in ten on an "order." subdomain)
// with utm parameters. 10% are inactive: half of them are history (the
// next link, active, has their destination and type: d = i + 1), half are
// unique. created_at rises with id over 700 days at minute precision, so
// about ten links share each timestamp at 10M (ties for the keyset
// orders). One link in five has clicks, heavy-tailed. search_text is what
// the trigger of migration 00022 would write (triggers are off during the
// load): the destination's, then its business's (name and city), read
// from the business row by primary key so rows are written in id order.
var linksSQL = `INSERT INTO short_links (id, slug, destination_url, link_type, business_id, site_id,
		is_active, click_count, preview_count, created_at, updated_at, search_text)
	OVERRIDING SYSTEM VALUE
	SELECT i, ` + base62SQL("((i * 2654435761) % 3521614606208)") + `, dest, t,
	       md5('b' || b)::uuid, md5('s' || b)::uuid,
	       i % 10 <> 5, c, CASE WHEN i % 7 = 0 THEN floor(exp(random() * 5))::bigint ELSE 0 END,
	       date_trunc('minute', timestamptz '2025-01-01 00:00Z' + (i::float8 / $1::bigint) * interval '700 days'),
	       date_trunc('minute', timestamptz '2025-01-01 00:00Z' + (i::float8 / $1::bigint) * interval '700 days'),
	       concat_ws(' | ', search_normalize_url(dest), (SELECT search_text FROM businesses WHERE id = md5('b' || b)::uuid))
	FROM (
	    SELECT i, b, t, c,
	           CASE WHEN k < $2::bigint THEN ` + siteSQL("b") + `
	           ELSE ` + schemeSQL("b") + ` || CASE WHEN ` + rnd("d", 12) + ` % 10 = 0 THEN 'order.' ELSE ` + wwwSQL("b") + ` END
	                || ` + hostSQL("b") + ` || '/' || ` + pick(paths, "d", 13) + `
	                || '?utm_source=' || t || '&utm_campaign=' || ` + pick(campaignWords, "d", 14) + ` || '&ref=' || d
	           END AS dest
	    FROM (
	        SELECT i, d, k,
	               CASE WHEN k < $2::bigint THEN k + 1 ELSE 1 + ` + rnd("d", 11) + ` % $2::bigint END AS b,
	               CASE WHEN k < $2::bigint THEN 'site_preview'
	                    WHEN d % 100 < 40 THEN 'campaign' WHEN d % 100 < 65 THEN 'sms'
	                    WHEN d % 100 < 80 THEN 'email' WHEN d % 100 < 92 THEN 'social' ELSE 'qr' END AS t,
	               CASE WHEN i % 5 = 0 AND i % 10 <> 5 THEN floor(exp(random() * 9))::bigint ELSE 0 END AS c
	        FROM (SELECT i, d, ((d - 1) * $3::bigint) % $1::bigint AS k
	              FROM (SELECT i, CASE WHEN i % 20 = 5 AND i < $1::bigint THEN i + 1 ELSE i END AS d
	                    FROM generate_series(1, $1::bigint) i) ids) perm
	        WHERE $4::bigint >= 0
	    ) g
	) l`

// dailySQL: a year of daily rows for one active link in 200.
var dailySQL = `INSERT INTO link_clicks_daily (link_id, day, clicks, previews)
	SELECT l.id, current_date - d, (l.id + d) % 13 + d % 3, (l.id + d) % 4
	FROM short_links l CROSS JOIN generate_series(0, 364) d
	WHERE l.id % 200 = 0 AND l.is_active AND $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0`

// trafficTotalsSQL: the running totals the click flush keeps (migration
// 00010) start from the counts linksSQL wrote, in shard 0.
var trafficTotalsSQL = `UPDATE traffic_totals SET
	clicks = CASE WHEN shard = 0 THEN (SELECT COALESCE(SUM(click_count), 0) FROM short_links) ELSE 0 END,
	previews = CASE WHEN shard = 0 THEN (SELECT COALESCE(SUM(preview_count), 0) FROM short_links) ELSE 0 END
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0`

// sendsSQL: one send per business on average ($2 sends: 1M at 10M links),
// to random businesses, spread evenly over the last 120 days so the 24 h,
// 7, 30 and 90 day windows hold about 1/120, 7/120, 1/4 and 3/4 of them;
// three in ten were tapped. Each names the link of its business's site
// (id d, where the permutation put it).
var sendsSQL = `INSERT INTO campaign_sends (id, business_id, variant, message, link_id, slug, short_url,
		encoding, segments, cost_micros, currency, sent_at, clicks)
	SELECT md5('send' || j)::uuid, md5('b' || b)::uuid, variant,
	       'Hi! Your free website preview is ready: https://s.example/' || slug, d, slug, 'https://s.example/' || slug,
	       'GSM-7', 1, 7900, 'USD', now() - (` + rnd("j", 22) + ` % (120 * 1440)) * interval '1 minute',
	       CASE WHEN ` + rnd("j", 24) + ` % 10 < 3 THEN 1 + ` + rnd("j", 25) + ` % 5 ELSE 0 END
	FROM (SELECT j, b, d, ` + base62SQL("((d * 2654435761) % 3521614606208)") + ` AS slug,
	             (ARRAY['friendly','professional','urgent'])[1 + ` + rnd("j", 23) + ` % 3] AS variant
	      FROM (SELECT j, b, ((b - 1) * $4::bigint) % $1::bigint + 1 AS d
	            FROM (SELECT j, 1 + ` + rnd("j", 21) + ` % $2::bigint AS b FROM generate_series(1, $2::bigint) j) s) s
	      WHERE $3::bigint > 0) s`

// variantBusinessesSQL and variantTotalsSQL: the per-variant totals that
// the send and flush statements keep (migration 00007), from the sends.
var variantBusinessesSQL = `INSERT INTO campaign_variant_businesses (variant, business_id, clicks)
	SELECT variant, business_id, SUM(clicks) FROM campaign_sends
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY variant, business_id`

// variantBusinessesLastSQL is variantBusinessesSQL where the table also
// keeps each business's latest send and latest tapped send (migration
// 00019).
var variantBusinessesLastSQL = `INSERT INTO campaign_variant_businesses (variant, business_id, clicks, last_sent_at, last_clicked_at)
	SELECT variant, business_id, SUM(clicks), max(sent_at), max(sent_at) FILTER (WHERE clicks > 0) FROM campaign_sends
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY variant, business_id`

// linkCountersSQL: the narrow counters row every link has (migration
// 00015), from the counts linksSQL wrote.
var linkCountersSQL = `INSERT INTO link_counters (link_id, click_count, preview_count, forwarded_clicks)
	SELECT id, click_count, preview_count, forwarded_clicks FROM short_links
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0`

// variantHoursSQL: the per-variant, per-hour rollup the results windows
// read (migrations 00018 and 00019): the hour's sends and their clicks, and
// the businesses whose latest send (latest tapped send) of the variant is
// in that hour.
var variantHoursSQL = `INSERT INTO campaign_variant_hours (variant, hour, sends, segments, cost_micros, clicks,
		businesses_sent_last, businesses_clicked_last)
	SELECT variant, hour, SUM(sends), SUM(segments), SUM(cost_micros), SUM(clicks), SUM(sent_last), SUM(clicked_last)
	FROM (SELECT variant, date_trunc('hour', sent_at, 'UTC') AS hour, COUNT(*) AS sends, SUM(segments) AS segments,
	             SUM(cost_micros) AS cost_micros, SUM(clicks) AS clicks, 0 AS sent_last, 0 AS clicked_last
	      FROM campaign_sends GROUP BY 1, 2
	      UNION ALL
	      SELECT variant, date_trunc('hour', max(sent_at), 'UTC'), 0, 0, 0, 0, 1, 0
	      FROM campaign_sends GROUP BY variant, business_id
	      UNION ALL
	      SELECT variant, date_trunc('hour', max(sent_at), 'UTC'), 0, 0, 0, 0, 0, 1
	      FROM campaign_sends WHERE clicks > 0 GROUP BY variant, business_id) parts
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY variant, hour`

var variantTotalsSQL = `INSERT INTO campaign_variant_totals (variant, sends, businesses_sent, businesses_clicked,
		clicks, segments, cost_micros)
	SELECT variant, SUM(sends), COUNT(*), COUNT(*) FILTER (WHERE clicks > 0), SUM(clicks), SUM(segments), SUM(cost)
	FROM (SELECT variant, business_id, COUNT(*) AS sends, SUM(clicks) AS clicks, SUM(segments) AS segments,
	             SUM(cost_micros) AS cost
	      FROM campaign_sends GROUP BY variant, business_id) per_business
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY variant`

// versionBusinessesSQL, versionTotalsSQL and versionHoursSQL: the
// per-version rollups (migration 00039) as its backfill writes them
// (the generated sends have no template version: -1).
var versionBusinessesSQL = `INSERT INTO campaign_version_businesses (variant, template_version, business_id, clicks,
		last_sent_at, last_clicked_at)
	SELECT variant, COALESCE(template_version, -1), business_id, SUM(clicks), max(sent_at),
	       max(sent_at) FILTER (WHERE clicks > 0)
	FROM campaign_sends
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY 1, 2, 3`

var versionTotalsSQL = `INSERT INTO campaign_version_totals (variant, template_version, sends, businesses_sent,
		businesses_clicked, clicks, segments, cost_micros)
	SELECT variant, template_version, SUM(sends), COUNT(*), COUNT(*) FILTER (WHERE clicks > 0), SUM(clicks),
	       SUM(segments), SUM(cost)
	FROM (SELECT variant, COALESCE(template_version, -1) AS template_version, business_id, COUNT(*) AS sends,
	             SUM(clicks) AS clicks, SUM(segments) AS segments, SUM(cost_micros) AS cost
	      FROM campaign_sends GROUP BY 1, 2, 3) per_business
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY 1, 2`

var versionHoursSQL = `INSERT INTO campaign_version_hours (variant, template_version, hour, sends, segments, cost_micros,
		clicks, businesses_sent_last, businesses_clicked_last)
	SELECT variant, template_version, hour, SUM(sends), SUM(segments), SUM(cost_micros), SUM(clicks), SUM(sent_last),
	       SUM(clicked_last)
	FROM (SELECT variant, COALESCE(template_version, -1) AS template_version, date_trunc('hour', sent_at, 'UTC') AS hour,
	             1 AS sends, segments, cost_micros, clicks, 0 AS sent_last, 0 AS clicked_last
	      FROM campaign_sends
	      UNION ALL
	      SELECT variant, template_version, date_trunc('hour', last_sent_at, 'UTC'), 0, 0, 0, 0, 1, 0
	      FROM campaign_version_businesses
	      UNION ALL
	      SELECT variant, template_version, date_trunc('hour', last_clicked_at, 'UTC'), 0, 0, 0, 0, 0, 1
	      FROM campaign_version_businesses WHERE last_clicked_at IS NOT NULL) parts
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY 1, 2, 3`

// variantGapsSQL and versionGapsSQL: the gap rollups (migration 00042) as
// its backfill writes them: each send by its hour and the hour of the
// previous send of its key (tapped sends: of the previous tapped send).
var variantGapsSQL = `INSERT INTO campaign_variant_gaps (hour, variant, prev_hour, sends, tapped)
	SELECT hour, variant, prev_hour, SUM(sends), SUM(tapped)
	FROM (SELECT date_trunc('hour', sent_at, 'UTC') AS hour, variant,
	             COALESCE(date_trunc('hour', lag(sent_at) OVER w, 'UTC'), '-infinity') AS prev_hour, 1 AS sends, 0 AS tapped
	      FROM campaign_sends WINDOW w AS (PARTITION BY variant, business_id ORDER BY sent_at, id)
	      UNION ALL
	      SELECT date_trunc('hour', sent_at, 'UTC'), variant,
	             COALESCE(date_trunc('hour', lag(sent_at) OVER w, 'UTC'), '-infinity'), 0, 1
	      FROM campaign_sends WHERE clicks > 0 WINDOW w AS (PARTITION BY variant, business_id ORDER BY sent_at, id)) chain
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY 1, 2, 3`

var versionGapsSQL = `INSERT INTO campaign_version_gaps (hour, variant, template_version, prev_hour, sends, tapped)
	SELECT hour, variant, v, prev_hour, SUM(sends), SUM(tapped)
	FROM (SELECT date_trunc('hour', sent_at, 'UTC') AS hour, variant, v,
	             COALESCE(date_trunc('hour', lag(sent_at) OVER w, 'UTC'), '-infinity') AS prev_hour, 1 AS sends, 0 AS tapped
	      FROM (SELECT *, COALESCE(template_version, -1) AS v FROM campaign_sends) c
	      WINDOW w AS (PARTITION BY variant, v, business_id ORDER BY sent_at, id)
	      UNION ALL
	      SELECT date_trunc('hour', sent_at, 'UTC'), variant, v,
	             COALESCE(date_trunc('hour', lag(sent_at) OVER w, 'UTC'), '-infinity'), 0, 1
	      FROM (SELECT *, COALESCE(template_version, -1) AS v FROM campaign_sends WHERE clicks > 0) c
	      WINDOW w AS (PARTITION BY variant, v, business_id ORDER BY sent_at, id)) chain
	WHERE $1::bigint > 0 AND $2::bigint > 0 AND $3::bigint > 0 AND $4::bigint >= 0
	GROUP BY 1, 2, 3, 4`
