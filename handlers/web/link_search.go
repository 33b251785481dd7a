package web

import (
	"strings"
)

// LinkSearch reads what a listing's search text names, so the store can
// look it up by index before any fuzzy search (db/search.go): a full URL,
// normalised exactly as POST /api/v1/links normalises destinations (so
// "HTTPS://WWW.Rosas.com" finds the link made for "https://www.rosas.com/"),
// or a bare domain ("rosas.com", "www.rosas.com/"), as the host the store
// keeps (lowercase, punycode). Anything else is plain text: both are "".
func (h *Base) LinkSearch(q string) (url, domain string) {
	if q == "" || strings.ContainsAny(q, " \t") {
		return "", ""
	}
	lower := strings.ToLower(q)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		u, err := h.NormalizeURL(q)
		if err != nil {
			return "", ""
		}
		return u, ""
	}
	host := strings.TrimSuffix(q, "/")
	if !strings.Contains(host, ".") || strings.ContainsAny(host, "/?#@:") {
		return "", ""
	}
	// A domain is what the policy accepts as the host of a URL with no path.
	u, err := h.NormalizeURL("https://" + host)
	if err != nil {
		return "", ""
	}
	host, ok := strings.CutSuffix(strings.TrimPrefix(u, "https://"), "/")
	if !ok || strings.ContainsAny(host, "/?#") {
		return "", ""
	}
	return "", strings.TrimPrefix(host, "www.")
}
