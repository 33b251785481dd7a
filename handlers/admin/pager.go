package admin

import (
	"strconv"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// pagerFor is the one pager of every listing: previous and next pages are
// the listing's URL at the cursors the store returned, and the label is the
// total as the store counted or estimated it.
func pagerFor(prev, next *db.Cursor, urlAt func(*db.Cursor) string, label string) views.Pager {
	p := views.Pager{Label: label}
	if prev != nil {
		p.PrevURL = urlAt(prev)
	}
	if next != nil {
		p.NextURL = urlAt(next)
	}
	return p
}

// countText shows a total: exact ("1,234") or labelled as an estimate
// ("about 9.0 M", "about 12.3 k") when counting would read too many rows.
func countText(c db.Count) string {
	if !c.Estimated {
		return groupThousands(c.N)
	}
	switch n := float64(c.N); {
	case n >= 1e6:
		return "about " + strconv.FormatFloat(n/1e6, 'f', 1, 64) + " M"
	case n >= 1e4:
		return "about " + strconv.FormatFloat(n/1e3, 'f', 1, 64) + " k"
	default:
		return "about " + groupThousands(c.N)
	}
}

// groupThousands writes n with thousands separators: 1234567 → "1,234,567".
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
