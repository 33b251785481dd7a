package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/shortlinks/shortlinks/handlers/urlpolicy"
)

// errPrivate is a refused dial to an address that is not public.
var errPrivate = errors.New("address is not public (set WEBHOOK_ALLOW_PRIVATE=true to allow)")

// newClient returns the HTTP client deliveries go through. Unless
// allowPrivate, every connection is checked at dial time on the address
// actually dialled, after name resolution, so a name that resolves (or
// later rebinds) to a private address is refused too. Proxies from the
// environment are ignored, since the check must see the receiver's address,
// and redirects are not followed (Standard Webhooks counts a 3xx as a
// failure).
func newClient(timeout time.Duration, conns int, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   conns,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// refusePrivate is a net.Dialer Control function: it runs just before
// connect, with the resolved IP.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhooks: unexpected dial address %q", address)
	}
	if !urlpolicy.PublicAddr(ap.Addr()) {
		return fmt.Errorf("%s: %w", ap.Addr(), errPrivate)
	}
	return nil
}

// CheckURL validates one WEBHOOK_URLS entry: an absolute http or https URL.
// Without allowPrivate a host that is a non-public IP or "localhost" is
// refused at once; names are checked again at every dial.
func CheckURL(raw string, allowPrivate bool) error {
	return checkURL("WEBHOOK_URLS", raw, allowPrivate)
}

// CheckEndpointURL validates the url of an endpoint added through the API
// or console by the same rule as CheckURL.
func CheckEndpointURL(raw string, allowPrivate bool) error {
	return checkURL("url", raw, allowPrivate)
}

func checkURL(field, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%s: %q is not an absolute http:// or https:// URL", field, raw)
	}
	if allowPrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("%s: %q points at this machine (set WEBHOOK_ALLOW_PRIVATE=true to allow)", field, raw)
	}
	if a, err := netip.ParseAddr(host); err == nil && !urlpolicy.PublicAddr(a) {
		return fmt.Errorf("%s: %q is not a public address (set WEBHOOK_ALLOW_PRIVATE=true to allow)", field, raw)
	}
	return nil
}
