// Package urlpolicy validates and normalizes destination URLs before they are
// stored or compared. It is the single gate that keeps the service from being
// used as an open redirect to non-web schemes, and it makes equivalent URLs
// share one canonical string (and therefore one short link).
//
// Only the scheme, host and port are canonicalized. The path, query and
// fragment are preserved byte for byte, because re-encoding them can change
// what the destination server sees.
package urlpolicy

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxLength is the length limit, in bytes, used when Policy.MaxLength
// is zero or negative.
const DefaultMaxLength = 4096

// asciiSpace is the set of characters trimmed from both ends of the input.
const asciiSpace = " \t\n\v\f\r"

// Policy holds the configurable limits.
type Policy struct {
	MaxLength    int      // bytes, default 4096 when 0
	AllowedHosts []string // optional host suffix allow-list ("example.com" allows example.com and *.example.com); empty = any host
	// AllowPrivate admits hosts that are not on the public Internet
	// (loopback, private and link-local addresses, localhost, single-label
	// names; see publicHost). Off by default: a trusted short domain must
	// not send SMS recipients into an intranet or at a metadata service.
	AllowPrivate bool
}

// Error is a validation failure; Reason is a short human message safe to show
// to users.
type Error struct{ Reason string }

// Error implements the error interface.
func (e *Error) Error() string { return "invalid destination URL: " + e.Reason }

func fail(reason string) error { return &Error{Reason: reason} }

// Normalize validates raw and returns its canonical form.
// The returned error is always an *Error for policy violations.
func (p Policy) Normalize(raw string) (string, error) {
	s := strings.Trim(raw, asciiSpace)
	if s == "" {
		return "", fail("URL is empty")
	}
	limit := p.maxLength()
	// Check before any parsing so huge inputs are cheap to reject.
	if len(s) > limit {
		return "", tooLong(limit)
	}
	if err := checkChars(s); err != nil {
		return "", err
	}
	scheme, rest, err := splitScheme(s)
	if err != nil {
		return "", err
	}
	authority, tail := splitAuthority(rest)
	hostport, host, err := normalizeAuthority(authority, scheme)
	if err != nil {
		return "", err
	}
	if !p.AllowPrivate && !publicHost(host) {
		return "", fail("host is not on the public Internet (loopback, private, link-local, reserved or local-only name)")
	}
	if !p.hostAllowed(host) {
		return "", fail("host not allowed")
	}
	// An empty path is equivalent to "/"; browsers add it too.
	if tail == "" || tail[0] != '/' {
		tail = "/" + tail
	}
	out := scheme + "://" + hostport + tail
	// Normalization can grow the URL ("/" added, IDN to punycode).
	if len(out) > limit {
		return "", tooLong(limit)
	}
	return out, nil
}

func (p Policy) maxLength() int {
	if p.MaxLength <= 0 {
		return DefaultMaxLength
	}
	return p.MaxLength
}

func tooLong(limit int) error {
	return fail("longer than " + strconv.Itoa(limit) + " bytes")
}

// checkChars rejects spaces, C0/C1 control characters, DEL and invalid UTF-8.
// Browsers silently strip tabs and newlines, which would make the URL we
// validated differ from the one that is followed.
func checkChars(s string) error {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			return fail("contains spaces or control characters")
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if ascii {
		return nil
	}
	// Invalid UTF-8 cannot be stored in a text column and has no single
	// meaning, so it is rejected rather than preserved.
	if !utf8.ValidString(s) {
		return fail("is not valid UTF-8")
	}
	// Unicode spaces, invisible format characters (bidi overrides,
	// zero-width joiners) and line separators would make URLs that look
	// alike but are stored apart, or that read differently from where they
	// go; U+FFFD means bytes were already lost in decoding.
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) ||
			unicode.In(r, unicode.Zl, unicode.Zp) || r == utf8.RuneError {
			return fail("contains spaces, invisible or control characters")
		}
	}
	return nil
}

// splitScheme returns the lowercased scheme and what follows "://".
func splitScheme(s string) (scheme, rest string, err error) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", "", fail("must start with http:// or https://")
	}
	// ASCII-only lowering: Unicode case folding would let "httpſ" pass as "https".
	scheme = asciiLower(s[:i])
	if scheme != "http" && scheme != "https" {
		return "", "", fail("only http and https URLs are allowed")
	}
	rest, ok := strings.CutPrefix(s[i+1:], "//")
	if !ok {
		return "", "", fail("must start with http:// or https://")
	}
	return scheme, rest, nil
}

// splitAuthority splits rest at the first '/', '?' or '#', the same place
// RFC 3986 and browsers end the authority.
func splitAuthority(rest string) (authority, tail string) {
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		return rest, ""
	}
	return rest[:end], rest[end:]
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
