// Package phone validates and normalizes business phone numbers to E.164
// with github.com/nyaruka/phonenumbers (a maintained Go port of Google's
// libphonenumber: per-country lengths, prefixes and number plans, which a
// hand-written pattern would get wrong). Pure logic, testable alone.
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region of numbers written without a country code
// when PHONE_DEFAULT_REGION is not set.
const DefaultRegion = "US"

// ErrInvalid says why a number was refused; its text is safe to show.
var ErrInvalid = errors.New("phone must be a valid phone number, with its country code (+44 …) unless it is in the default region")

// ValidRegion reports whether region is a two-letter region the library
// knows (US, GB, DE, …).
func ValidRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) != 0
}

// Normalize returns raw in E.164 (+15551234567), reading a number without
// a country code as one of region. An empty (or blank) raw is "" and no
// error: the phone is optional.
func Normalize(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Display formats an E.164 number for people (+1 555-123-4567 style,
// international so it is unambiguous); anything it cannot parse is
// returned as it is.
func Display(e164 string) string {
	n, err := phonenumbers.Parse(e164, DefaultRegion)
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// SMSHref is the "Text this" link: an sms: URI (RFC 5724) to number with
// body as the message, which a phone opens in its messaging app ready to
// send. It is written sms:+15551234567?&body=… — the "?&" form is the one
// both iOS (which before iOS 8 wanted "&body=") and Android (which wants a
// query, "?body=") read; each ignores the empty parameter. The body is
// percent-encoded byte by byte except RFC 3986's unreserved characters, so
// a space is %20 (never "+", which Messages shows as a plus), a newline
// %0A, and "&", "#" or "?" in the message cannot end it early.
func SMSHref(e164, body string) string {
	return "sms:" + e164 + "?&body=" + escapeBody(body)
}

func escapeBody(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
