package urlpolicy

import (
	"net/netip"
	"strings"
)

// ParseHostList parses a comma-separated ALLOWED_DESTINATION_HOSTS value
// (trim spaces, lowercase, drop empty and leading dots, IDN→punycode).
//
// An entry that is not a valid host is kept (lowercased) rather than dropped:
// it can never match, so a typo narrows the list instead of emptying it,
// which would allow every host.
func ParseHostList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for entry := range strings.SplitSeq(s, ",") {
		e := normalizeEntry(entry)
		if e == "" || seen[e] {
			continue
		}
		seen[e] = true
		out = append(out, e)
	}
	return out
}

// normalizeEntry puts one allow-list entry into the same canonical form
// Normalize produces for hosts. It returns "" for an empty entry.
func normalizeEntry(entry string) string {
	e := strings.ToLower(strings.TrimSpace(entry))
	e = strings.TrimLeft(e, ".")
	e = strings.TrimSuffix(e, ".")
	if e == "" {
		return ""
	}
	if inner, ok := strings.CutPrefix(e, "["); ok {
		e = strings.TrimSuffix(inner, "]")
	}
	if addr, err := netip.ParseAddr(e); err == nil && addr.Zone() == "" {
		if addr.Is6() {
			return "[" + addr.String() + "]"
		}
		return addr.String()
	}
	if d, err := normalizeDomain(e); err == nil {
		return d
	}
	return e
}

// hostAllowed applies the suffix allow-list to a canonical host.
func (p Policy) hostAllowed(host string) bool {
	if len(p.AllowedHosts) == 0 {
		return true
	}
	for _, entry := range p.AllowedHosts {
		// Entries are re-normalized so a hand-built Policy behaves like one
		// built with ParseHostList.
		e := normalizeEntry(entry)
		if e == "" {
			continue
		}
		if host == e {
			return true
		}
		// IP addresses match exactly; "0.0.1" must not allow "127.0.0.1".
		if !isIP(host) && strings.HasSuffix(host, "."+e) {
			return true
		}
	}
	return false
}
