package ops

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shortlinks/shortlinks/handlers/web"
)

// The access decision, with peers a real test server cannot produce.
func TestMetricsAllowed(t *testing.T) {
	cases := []struct {
		name    string
		cfg     web.Config
		remote  string
		headers map[string]string
		want    bool
	}{
		{"IPv4 loopback", web.Config{}, "127.0.0.1:5000", nil, true},
		{"other 127/8 address", web.Config{}, "127.8.9.10:5000", nil, true},
		{"IPv6 loopback", web.Config{}, "[::1]:5000", nil, true},
		{"IPv4-mapped loopback", web.Config{}, "[::ffff:127.0.0.1]:5000", nil, true},
		{"private network", web.Config{}, "10.0.0.7:5000", nil, false},
		{"public address", web.Config{}, "203.0.113.9:5000", nil, false},
		{"forged X-Forwarded-For", web.Config{}, "203.0.113.9:5000", map[string]string{"X-Forwarded-For": "127.0.0.1"}, false},
		{"forged X-Real-IP", web.Config{}, "203.0.113.9:5000", map[string]string{"X-Real-IP": "127.0.0.1"}, false},
		{"proxy on this host", web.Config{}, "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.9"}, false},
		{"proxy with Forwarded", web.Config{}, "127.0.0.1:5000", map[string]string{"Forwarded": "for=203.0.113.9"}, false},
		{"no port", web.Config{}, "127.0.0.1", nil, false},
		{"garbage", web.Config{}, "localhost:80", nil, false},
		{"public when configured", web.Config{MetricsPublic: true}, "203.0.113.9:5000", nil, true},
		{"token", web.Config{MetricsToken: "s3cret"}, "203.0.113.9:5000", map[string]string{"Authorization": "Bearer s3cret"}, true},
		{"token, any case of scheme", web.Config{MetricsToken: "s3cret"}, "203.0.113.9:5000", map[string]string{"Authorization": "bearer s3cret"}, true},
		{"wrong token", web.Config{MetricsToken: "s3cret"}, "203.0.113.9:5000", map[string]string{"Authorization": "Bearer s3cre"}, false},
		{"token without configuration", web.Config{}, "203.0.113.9:5000", map[string]string{"Authorization": "Bearer "}, false},
		{"loopback, proxy elsewhere", web.Config{Limits: web.Limits{TrustedProxies: cidrs("10.0.0.0/8")}}, "127.0.0.1:5000", nil, true},
		{"loopback, proxy on this host", web.Config{Limits: web.Limits{TrustedProxies: cidrs("127.0.0.1/32")}}, "127.0.0.1:5000", nil, false},
		{"loopback, IPv6 proxy on this host", web.Config{Limits: web.Limits{TrustedProxies: cidrs("::1/128")}}, "[::1]:5000", nil, false},
		{"token, proxy on this host", web.Config{MetricsToken: "s3cret", Limits: web.Limits{TrustedProxies: cidrs("127.0.0.0/8")}}, "127.0.0.1:5000", map[string]string{"Authorization": "Bearer s3cret"}, true},
	}
	for _, tc := range cases {
		h := &Handlers{Base: &web.Base{Cfg: tc.cfg}}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = tc.remote
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		if got := h.metricsAllowed(req); got != tc.want {
			t.Errorf("%s: allowed=%t, want %t", tc.name, got, tc.want)
		}
	}
}

func cidrs(ss ...string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range ss {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}
