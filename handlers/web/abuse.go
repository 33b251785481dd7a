package web

import (
	"net"

	"github.com/labstack/echo/v4"
)

// Limits configures abuse protection. Zero values pick the defaults.
type Limits struct {
	// NotFoundPerMinute and NotFoundBurst bound unknown-slug lookups per
	// client (an IPv4 address or an IPv6 /64; slug guessing). A client that
	// has used its allowance up gets 429 for unknown slugs until it has a
	// token again, while its real links still redirect, counted as suspect
	// taps (handlers/public/slug_guessing.go).
	NotFoundPerMinute float64
	NotFoundBurst     int
	// UnauthPerMinute bounds API calls without a valid token per client.
	UnauthPerMinute float64
	// TokenPerMinute, when positive, limits each API token (opt-in); by
	// default a caller holding a valid token is not limited.
	TokenPerMinute float64
	// MaxClients bounds the clients each limiter tracks (default 100,000);
	// past it the least recently seen is forgotten. Tests lower it.
	MaxClients int
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed when
	// finding the client IP; empty means the TCP peer is the client.
	TrustedProxies []*net.IPNet
}

func (l Limits) WithDefaults() Limits {
	if l.NotFoundPerMinute <= 0 {
		l.NotFoundPerMinute = 60
	}
	if l.NotFoundBurst <= 0 {
		l.NotFoundBurst = 100
	}
	if l.UnauthPerMinute <= 0 {
		l.UnauthPerMinute = 30
	}
	if l.MaxClients <= 0 {
		l.MaxClients = DefaultMaxClients
	}
	return l
}

// Limiters holds the per-client token buckets.
type Limiters struct {
	Login    *KeyedLimiter // failed sign-ins per client IP (successes give their token back)
	Account  *KeyedLimiter // failed sign-ins per account, from browsers without its device cookie
	NotFound *KeyedLimiter // unknown slugs per client IP
	Unauth   *KeyedLimiter // API calls without a valid token per client IP
	PerToken *KeyedLimiter // nil unless TokenPerMinute is set
}

func NewLimiters(l Limits) Limiters {
	ls := Limiters{
		Login:    newKeyedLimiter(5, 5),
		Account:  newKeyedLimiter(1, 10),
		NotFound: newKeyedLimiter(l.NotFoundPerMinute, l.NotFoundBurst),
		Unauth:   newKeyedLimiter(l.UnauthPerMinute, int(max(l.UnauthPerMinute, 1))),
	}
	if l.TokenPerMinute > 0 {
		ls.PerToken = newKeyedLimiter(l.TokenPerMinute, int(max(l.TokenPerMinute, 1)))
	}
	for _, k := range []*KeyedLimiter{ls.Login, ls.Account, ls.NotFound, ls.Unauth, ls.PerToken} {
		if k != nil {
			k.maxClients = l.MaxClients
		}
	}
	return ls
}

// IPExtractor finds the client IP: the TCP peer, or the X-Forwarded-For
// entry added by a trusted proxy when proxies are configured.
func IPExtractor(l Limits) echo.IPExtractor {
	if len(l.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range l.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
