package ops

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// Metrics is GET /metrics, in the Prometheus text format. Callers that may
// not see it get the same 404 as any unknown path.
func (h *Handlers) Metrics(c echo.Context) error {
	if !h.metricsAllowed(c.Request()) {
		return &web.APIError{Status: http.StatusNotFound, Code: "not_found", Message: "This page does not exist."}
	}
	h.Base.Metrics.Handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// metricsAllowed decides who may read /metrics: anyone when METRICS_PUBLIC
// is set, a caller presenting METRICS_TOKEN, or a loopback peer — unless
// TRUSTED_PROXIES names a proxy on this host, whose requests come from
// loopback whoever sent them; then only the token opens it.
func (h *Handlers) metricsAllowed(r *http.Request) bool {
	if h.Cfg.MetricsPublic {
		return true
	}
	if h.Cfg.MetricsToken != "" && bearerMatches(r, h.Cfg.MetricsToken) {
		return true
	}
	return loopbackPeer(r) && !proxyOnThisHost(h.Cfg.Limits.TrustedProxies)
}

// proxyOnThisHost reports whether a trusted proxy range holds a loopback
// address.
func proxyOnThisHost(proxies []*net.IPNet) bool {
	for _, n := range proxies {
		if n.Contains(net.IPv4(127, 0, 0, 1)) || n.Contains(net.IPv6loopback) {
			return true
		}
	}
	return false
}

// loopbackPeer reports whether the TCP peer is on this host. It trusts only
// RemoteAddr: X-Forwarded-For and X-Real-IP are whatever the client wrote.
// A loopback peer that forwards for someone (it sets a forwarding header) is
// a reverse proxy on this host, whose clients are not local, so it is
// refused; forging such a header can only refuse oneself.
func loopbackPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return false
	}
	for _, name := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(name) != "" {
			return false
		}
	}
	return true
}

// bearerMatches compares the request's bearer token with want in constant
// time, over digests so the length does not leak either.
func bearerMatches(r *http.Request, want string) bool {
	got, ok := web.BearerDigest(r)
	exp := sha256.Sum256([]byte(want))
	return ok && subtle.ConstantTimeCompare(got[:], exp[:]) == 1
}
