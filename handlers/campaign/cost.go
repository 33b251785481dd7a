package campaign

// Cost: SMS segments priced exactly. Rates and totals are whole micro-units
// (millionths of the currency unit) parsed from decimal text, so 3 × 0.0079
// is 0.0237 and never 0.023700000000000002.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Scale is the number of decimal places a rate may have.
const Scale = 6

const microsPerUnit = 1_000_000

// maxRateMicros bounds a per-segment rate (1000 currency units) so that no
// product of rate and segments can overflow int64.
const maxRateMicros = 1000 * microsPerUnit

// Amount is money in micro-units of some currency.
type Amount int64

// Rate is the price of one SMS segment.
type Rate struct {
	PerSegment Amount
	Currency   string // ISO 4217 code such as "USD"
}

// ParseRate reads a non-negative decimal such as "0.0079" (at most six
// decimal places, no exponent, no sign) and a three-letter currency code.
func ParseRate(amount, currency string) (Rate, error) {
	a, err := ParseAmount(amount)
	if err != nil {
		return Rate{}, err
	}
	if a > maxRateMicros {
		return Rate{}, fmt.Errorf("cost %q is more than 1000 per segment", amount)
	}
	if !isCurrencyCode(currency) {
		return Rate{}, fmt.Errorf("currency %q is not a three-letter ISO 4217 code such as USD", currency)
	}
	return Rate{PerSegment: a, Currency: currency}, nil
}

// ParseAmount reads a non-negative decimal with at most Scale decimal places.
// Anything else (negative, NaN, Inf, exponent, too precise) is an error
// rather than a silently rounded number.
func ParseAmount(s string) (Amount, error) {
	whole, frac, hasDot := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" && frac == "" || !digits(whole) || !digits(frac) || hasDot && frac == "" {
		return 0, fmt.Errorf("cost %q is not a non-negative decimal number such as 0.0079", s)
	}
	if len(frac) > Scale {
		return 0, fmt.Errorf("cost %q has more than %d decimal places", s, Scale)
	}
	if len(whole) > 9 {
		return 0, fmt.Errorf("cost %q is too large", s)
	}
	w, _ := strconv.ParseInt("0"+whole, 10, 64)
	f, _ := strconv.ParseInt(frac+strings.Repeat("0", Scale-len(frac)), 10, 64)
	return Amount(w*microsPerUnit + f), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// DefaultRate is the segment price used when none is configured.
func DefaultRate() Rate { return Rate{PerSegment: 7900, Currency: "USD"} } // 0.0079 USD

// Estimate is the cost of sending segments segments.
func (r Rate) Estimate(segments int) Amount { return r.PerSegment * Amount(segments) }

// String is the amount in plain decimal with trailing zeros dropped but at
// least two decimals: "0.0237", "0.00", "1.50".
func (a Amount) String() string {
	s := fmt.Sprintf("%d.%06d", a/microsPerUnit, a%microsPerUnit)
	s = strings.TrimRight(s, "0")
	if dot := strings.IndexByte(s, '.'); len(s)-dot-1 < 2 {
		s += strings.Repeat("0", 2-(len(s)-dot-1))
	}
	return s
}

// MarshalJSON writes the amount as an exact JSON number, not via float64.
func (a Amount) MarshalJSON() ([]byte, error) { return json.Marshal(json.Number(a.String())) }
