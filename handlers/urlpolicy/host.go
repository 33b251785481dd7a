package urlpolicy

import (
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// profile is idna.Lookup minus two checks browsers do not apply:
// CheckHyphens (real hosts such as "r3---sn-x.googlevideo.com" exist) and
// VerifyDNSLength (it rejects a trailing dot; lengths are checked in
// validDomain instead). STD3 rules stay on, so only letters, digits and '-'
// survive in ASCII labels.
var profile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.VerifyDNSLength(false),
)

// normalizeAuthority validates the authority and returns the canonical
// "host[:port]" together with the bare canonical host.
func normalizeAuthority(authority, scheme string) (hostport, host string, err error) {
	if strings.ContainsRune(authority, '@') {
		return "", "", fail("user names and passwords are not allowed")
	}
	// Browsers treat '\' as '/', so it would move the real host boundary.
	if strings.ContainsRune(authority, '\\') {
		return "", "", fail("invalid host")
	}
	rawHost, rawPort, err := splitHostPort(authority)
	if err != nil {
		return "", "", err
	}
	if rawHost == "" {
		return "", "", fail("missing host")
	}
	host, err = normalizeHost(rawHost)
	if err != nil {
		return "", "", err
	}
	port, err := normalizePort(rawPort, scheme)
	if err != nil {
		return "", "", err
	}
	return host + port, host, nil
}

// splitHostPort splits on the port colon; a bracketed IPv6 host keeps its
// brackets. The port is returned without its colon.
func splitHostPort(authority string) (host, port string, err error) {
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", "", fail("invalid host")
		}
		host, after := authority[:end+1], authority[end+1:]
		if after == "" {
			return host, "", nil
		}
		port, ok := strings.CutPrefix(after, ":")
		if !ok {
			return "", "", fail("invalid host")
		}
		return host, port, nil
	}
	// A second colon ends up in the port and fails the digit check.
	host, port, _ = strings.Cut(authority, ":")
	return host, port, nil
}

// normalizePort returns "" for an empty or default port, else ":N" with
// leading zeros removed.
func normalizePort(port, scheme string) (string, error) {
	if port == "" {
		// RFC 3986 6.2.3: an empty port is the default port.
		return "", nil
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", fail("invalid port")
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fail("invalid port")
	}
	if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
		return "", nil
	}
	return ":" + strconv.Itoa(n), nil
}

// normalizeHost returns the canonical ASCII form of a host: a bracketed
// IPv6 literal, a dotted-quad IPv4 address or a punycode domain name.
func normalizeHost(h string) (string, error) {
	if strings.HasPrefix(h, "[") {
		return normalizeIPv6(h[1 : len(h)-1])
	}
	return normalizeDomain(h)
}

// normalizeIPv6 returns the RFC 5952 form in brackets, so that equivalent
// spellings of one address compare equal. Zones are meaningless off-host.
func normalizeIPv6(s string) (string, error) {
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() || addr.Zone() != "" {
		return "", fail("invalid host")
	}
	return "[" + addr.String() + "]", nil
}

// normalizeDomain maps an (internationalized) host name to lowercase
// punycode and strips a single trailing dot.
func normalizeDomain(h string) (string, error) {
	a, err := profile.ToASCII(h)
	if err != nil {
		return "", fail("invalid host")
	}
	a = strings.TrimSuffix(a, ".")
	if !validDomain(a) {
		return "", fail("invalid host")
	}
	// x/net/idna decides whether to apply the Bidi rule from the runes
	// before mapping, so "aℵb" (ℵ is L, maps to Hebrew א, R) passes while
	// its own punycode is rejected. Require the output to be a fixed point
	// so stored URLs always re-validate.
	if again, err := profile.ToASCII(a); err != nil || again != a {
		return "", fail("invalid host")
	}
	// Browsers parse a host whose last label is numeric as IPv4, accepting
	// forms like "2130706433" or "0x7f.1". Only the canonical dotted quad is
	// allowed so one address has one spelling.
	if endsInNumber(a) {
		addr, err := netip.ParseAddr(a)
		if err != nil || !addr.Is4() || addr.String() != a {
			return "", fail("invalid host")
		}
	}
	return a, nil
}

// validDomain checks DNS length limits and the LDH character set.
func validDomain(a string) bool {
	if a == "" || len(a) > 253 {
		return false
	}
	for label := range strings.SplitSeq(a, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// endsInNumber reports whether the last label is what the WHATWG URL
// standard treats as a number (decimal digits, or "0x" plus hex digits).
func endsInNumber(a string) bool {
	last := a[strings.LastIndexByte(a, '.')+1:]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// isIP reports whether a canonical host is an IP literal.
func isIP(host string) bool {
	return strings.HasPrefix(host, "[") || endsInNumber(host)
}
