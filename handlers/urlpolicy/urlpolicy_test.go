package urlpolicy

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// pad returns "http://example.com/" followed by 'a's, n bytes in total.
func pad(n int) string {
	const prefix = "http://example.com/"
	return prefix + strings.Repeat("a", n-len(prefix))
}

// acceptCases map an input to its exact, hand-written canonical form.
var acceptCases = []struct {
	name, in, want string
	policy         Policy
}{
	// Scheme and host case.
	{name: "uppercase scheme and host", in: "HTTP://Example.COM", want: "http://example.com/"},
	{name: "https mixed case", in: "hTTpS://EXAMPLE.com/Path", want: "https://example.com/Path"},
	{name: "surrounding whitespace", in: " \t\r\nhttps://example.com/x \n", want: "https://example.com/x"},

	// Ports.
	{name: "https default port", in: "https://example.com:443/a", want: "https://example.com/a"},
	{name: "http default port", in: "http://example.com:80/a", want: "http://example.com/a"},
	{name: "non-default port kept", in: "http://example.com:8080", want: "http://example.com:8080/"},
	{name: "http port on https kept", in: "https://example.com:80/", want: "https://example.com:80/"},
	{name: "https port on http kept", in: "http://example.com:443/", want: "http://example.com:443/"},
	{name: "port leading zeros", in: "http://example.com:08080/", want: "http://example.com:8080/"},
	{name: "default port leading zeros", in: "http://example.com:0080/", want: "http://example.com/"},
	{name: "empty port", in: "http://example.com:/x", want: "http://example.com/x"},
	{name: "max port", in: "http://example.com:65535/", want: "http://example.com:65535/"},

	// Path, query and fragment are preserved byte for byte.
	{name: "empty path", in: "https://example.com", want: "https://example.com/"},
	{name: "query without path", in: "http://example.com?q=1", want: "http://example.com/?q=1"},
	{name: "fragment without path", in: "http://example.com#top", want: "http://example.com/#top"},
	{name: "idn host, raw unicode rest", in: "https://bücher.de/Straße?q=Ä#F", want: "https://xn--bcher-kva.de/Straße?q=Ä#F"},
	{name: "escaped slash", in: "http://example.com/a%2Fb", want: "http://example.com/a%2Fb"},
	{name: "lowercase escapes kept", in: "http://example.com/%e2%9c%93?x=%2f", want: "http://example.com/%e2%9c%93?x=%2f"},
	{name: "path case kept", in: "http://example.com/A/B?X=Y#Z", want: "http://example.com/A/B?X=Y#Z"},
	{name: "dot segments kept", in: "http://example.com/a/../b/./c", want: "http://example.com/a/../b/./c"},
	{name: "at sign in path", in: "http://example.com/@evil.com", want: "http://example.com/@evil.com"},
	{name: "at sign in query", in: "http://example.com?u=a@b.c", want: "http://example.com/?u=a@b.c"},
	{name: "bare percent in query", in: "https://example.com/?off=50%", want: "https://example.com/?off=50%"},
	{name: "utm query", in: "https://example.com/p?utm_source=sms&utm_campaign=Spring+Sale", want: "https://example.com/p?utm_source=sms&utm_campaign=Spring+Sale"},

	// Hosts.
	{name: "idn uppercase", in: "https://BÜCHER.de/", want: "https://xn--bcher-kva.de/"},
	{name: "punycode input", in: "https://xn--bcher-kva.de/", want: "https://xn--bcher-kva.de/"},
	{name: "non-transitional sharp s", in: "http://faß.de/", want: "http://xn--fa-hia.de/"},
	{name: "fullwidth host", in: "http://ｅｘａｍｐｌｅ.com/", want: "http://example.com/"},
	{name: "ideographic full stop", in: "http://example。com/", want: "http://example.com/"},
	{name: "trailing dot", in: "http://example.com./", want: "http://example.com/"},
	{name: "trailing dot with port", in: "http://example.com.:8080/", want: "http://example.com:8080/"},
	{name: "double hyphen label", in: "https://r3---sn-abc.googlevideo.com/v", want: "https://r3---sn-abc.googlevideo.com/v"},
	{name: "single label host", in: "http://localhost:3000/", want: "http://localhost:3000/", policy: Policy{AllowPrivate: true}},
	{name: "ipv4", in: "http://127.0.0.1:3000/x", want: "http://127.0.0.1:3000/x", policy: Policy{AllowPrivate: true}},
	{name: "ipv6 loopback", in: "http://[::1]:8080/", want: "http://[::1]:8080/", policy: Policy{AllowPrivate: true}},
	{name: "ipv6 uppercase", in: "http://[2001:DB8::1]/", want: "http://[2001:db8::1]/", policy: Policy{AllowPrivate: true}},
	{name: "ipv6 canonical form", in: "https://[2001:db8:0:0:0:0:0:1]:443", want: "https://[2001:db8::1]/", policy: Policy{AllowPrivate: true}},
	{name: "ipv4-mapped ipv6", in: "http://[::FFFF:1.2.3.4]/", want: "http://[::ffff:1.2.3.4]/"},
	{name: "public ipv4", in: "http://8.8.8.8/dns", want: "http://8.8.8.8/dns"},
	{name: "public ipv6", in: "http://[2606:4700:4700::1111]/", want: "http://[2606:4700:4700::1111]/"},
	{name: "label of 63 bytes", in: "http://" + strings.Repeat("a", 63) + ".com/", want: "http://" + strings.Repeat("a", 63) + ".com/"},

	// Length.
	{name: "exactly max length", in: pad(4096), want: pad(4096)},
	{name: "custom max length", in: "http://example.com/", want: "http://example.com/", policy: Policy{MaxLength: 19}},

	// Allow-list.
	{name: "allowed apex", in: "https://example.com/x", want: "https://example.com/x", policy: Policy{AllowedHosts: []string{"example.com"}}},
	{name: "allowed subdomain", in: "https://shop.example.com/x", want: "https://shop.example.com/x", policy: Policy{AllowedHosts: []string{"example.com"}}},
	{name: "allowed deep subdomain", in: "https://a.b.EXAMPLE.com", want: "https://a.b.example.com/", policy: Policy{AllowedHosts: []string{"other.org", "example.com"}}},
	{name: "allowed idn entry", in: "https://shop.bücher.de/", want: "https://shop.xn--bcher-kva.de/", policy: Policy{AllowedHosts: []string{"Bücher.de"}}},
	{name: "allowed messy entry", in: "https://example.com:8443/", want: "https://example.com:8443/", policy: Policy{AllowedHosts: []string{" .Example.COM. "}}},
	{name: "allowed ip exact", in: "http://10.0.0.1/", want: "http://10.0.0.1/", policy: Policy{AllowedHosts: []string{"10.0.0.1"}, AllowPrivate: true}},
	{name: "allowed ipv6 entry", in: "http://[::1]/", want: "http://[::1]/", policy: Policy{AllowedHosts: []string{"0:0::1"}, AllowPrivate: true}},
}

func TestNormalizeAccept(t *testing.T) {
	for _, tt := range acceptCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := tt.policy.Normalize(got)
			if err != nil || again != got {
				t.Fatalf("not idempotent: Normalize(%q) = %q, %v", got, again, err)
			}
		})
	}
}

var allowExample = Policy{AllowedHosts: []string{"example.com"}}

// rejectCases must fail; reason is a substring of Error.Reason (empty = any).
var rejectCases = []struct {
	name, in string
	policy   Policy
	reason   string
}{
	// Empty.
	{name: "empty", in: "", reason: "empty"},
	// Look-alikes: Unicode spaces, invisible and bidi characters.
	{name: "no-break space", in: "https://example.com/\u00a0", reason: "invisible"},
	{name: "ideographic space", in: "https://example.com/a\u3000b", reason: "invisible"},
	{name: "bidi override", in: "https://example.com/\u202egnp.exe", reason: "invisible"},
	{name: "zero-width joiner", in: "https://example.com/a\u200db", reason: "invisible"},
	{name: "line separator", in: "https://example.com/a\u2028b", reason: "invisible"},
	{name: "replacement character", in: "https://example.com/a\ufffdb", reason: "invisible"},
	{name: "only whitespace", in: " \t\n ", reason: "empty"},

	// Schemes.
	{name: "javascript", in: "javascript:alert(1)", reason: "only http and https"},
	{name: "javascript mixed case", in: "JaVaScRiPt:alert(document.cookie)", reason: "only http and https"},
	{name: "javascript with slashes", in: "javascript://example.com/%0Aalert(1)"},
	{name: "data", in: "data:text/html,<script>alert(1)</script>", reason: "only http and https"},
	{name: "file", in: "file:///etc/passwd", reason: "only http and https"},
	{name: "mailto", in: "mailto:a@b.c", reason: "only http and https"},
	{name: "ftp", in: "ftp://example.com/file", reason: "only http and https"},
	{name: "tel", in: "tel:+15551234567"},
	{name: "sms", in: "sms:+15551234567?body=hi"},
	{name: "unicode fold scheme", in: "httpſ://example.com/", reason: "only http and https"},
	{name: "empty scheme", in: "://example.com/"},
	{name: "scheme-relative", in: "//evil.com/x", reason: "must start with"},
	{name: "scheme-relative with port", in: "//evil.com:80/x"},
	{name: "relative path", in: "/relative", reason: "must start with"},
	{name: "bare host", in: "example.com/path", reason: "must start with"},
	{name: "missing slashes", in: "http:example.com", reason: "must start with"},
	{name: "one slash", in: "http:/example.com", reason: "must start with"},
	{name: "backslashes", in: `http:\\evil.com`, reason: "must start with"},
	{name: "slash backslash", in: `https:/\evil.com`, reason: "must start with"},

	// Host required, no userinfo.
	{name: "no authority", in: "http://", reason: "missing host"},
	{name: "empty host with path", in: "https:///x", reason: "missing host"},
	{name: "empty host http", in: "http:///path", reason: "missing host"},
	{name: "port only", in: "http://:80/", reason: "missing host"},
	{name: "user and password", in: "http://user:pass@example.com/", reason: "user names"},
	{name: "user only", in: "http://user@example.com", reason: "user names"},
	{name: "empty userinfo", in: "http://@example.com/", reason: "user names"},
	{name: "userinfo looks like host", in: "https://example.com@evil.com/", reason: "user names"},
	{name: "backslash before at", in: `https://evil.com\@example.com/`},
	{name: "backslash in host", in: `https://example.com\.evil.com/`},

	// Characters.
	{name: "space in host", in: "http://exa mple.com/", reason: "spaces"},
	{name: "space in path", in: "http://example.com/a b", reason: "spaces"},
	{name: "tab in path", in: "http://example.com/a\tb", reason: "control"},
	{name: "newline in scheme", in: "java\nscript:alert(1)", reason: "control"},
	{name: "nul", in: "http://example.com/\x00", reason: "control"},
	{name: "del", in: "http://example.com/\x7f", reason: "control"},
	{name: "escape", in: "http://example.com/\x1b[31m", reason: "control"},
	{name: "c1 control", in: "http://example.com/\u0085", reason: "control"},
	{name: "invalid utf-8", in: "http://example.com/\xff", reason: "UTF-8"},

	// Ports.
	{name: "non-numeric port", in: "http://example.com:abc/", reason: "port"},
	{name: "signed port", in: "http://example.com:+80/", reason: "port"},
	{name: "negative port", in: "http://example.com:-1/", reason: "port"},
	{name: "port zero", in: "http://example.com:0/", reason: "port"},
	{name: "port too large", in: "http://example.com:65536/", reason: "port"},
	{name: "port overflow", in: "http://example.com:99999999999999999999999/", reason: "port"},
	{name: "two ports", in: "http://example.com:80:80/", reason: "port"},
	{name: "ipv6 without brackets", in: "http://::1/"},

	// Hosts.
	{name: "percent in host", in: "http://ex%61mple.com/", reason: "invalid host"},
	{name: "underscore", in: "http://exa_mple.com/", reason: "invalid host"},
	{name: "empty label", in: "http://a..b/", reason: "invalid host"},
	{name: "only dot", in: "http://./", reason: "invalid host"},
	{name: "two trailing dots", in: "http://example.com../", reason: "invalid host"},
	{name: "bad punycode", in: "http://xn--zz.com/", reason: "invalid host"},
	{name: "ascii punycode", in: "http://xn--a.com/", reason: "invalid host"},
	{name: "bidi override", in: "http://a\u202eb.com/", reason: "invisible"},
	{name: "rtl after mapping", in: "http://a\u2135b.com/", reason: "invalid host"},
	{name: "rtl label after digit label", in: "http://1.2.3.\u2135/", reason: "invalid host"},
	{name: "rtl punycode after mapping", in: "http://xn--ab-vld.com/", reason: "invalid host"},
	{name: "label too long", in: "http://" + strings.Repeat("a", 64) + ".com/", reason: "invalid host"},
	{name: "host too long", in: "http://" + strings.Repeat("abcdefghi.", 26) + "com/", reason: "invalid host"},
	{name: "decimal ipv4", in: "http://2130706433/", reason: "invalid host"},
	{name: "hex ipv4", in: "http://0x7f.0.0.1/", reason: "invalid host"},
	{name: "short ipv4", in: "http://127.1/", reason: "invalid host"},
	{name: "leading zero ipv4", in: "http://127.000.0.1/", reason: "invalid host"},
	{name: "ipv4 out of range", in: "http://1.2.3.999/", reason: "invalid host"},
	{name: "numeric tld", in: "http://example.123/", reason: "invalid host"},
	{name: "unclosed bracket", in: "http://[::1/", reason: "invalid host"},
	{name: "junk after bracket", in: "http://[::1]x/", reason: "invalid host"},
	{name: "bracketed ipv4", in: "http://[1.2.3.4]/", reason: "invalid host"},
	{name: "ipv6 zone", in: "http://[fe80::1%25eth0]/", reason: "invalid host"},
	{name: "empty brackets", in: "http://[]/", reason: "invalid host"},

	// Length.
	{name: "one byte over max", in: pad(4097), reason: "longer than 4096 bytes"},
	{name: "over custom max", in: "http://example.com/ab", policy: Policy{MaxLength: 20}, reason: "longer than 20 bytes"},
	{name: "output over max", in: "http://example.com", policy: Policy{MaxLength: 18}, reason: "longer than 18 bytes"},
	{name: "punycode over max", in: "http://ü.de/", policy: Policy{MaxLength: 14}, reason: "longer than 14 bytes"},

	// Allow-list.
	{name: "suffix without dot", in: "https://badexample.com/", policy: allowExample, reason: "host not allowed"},
	{name: "allowed as prefix", in: "https://example.com.evil.net/", policy: allowExample, reason: "host not allowed"},
	{name: "allowed in query", in: "https://evil.net/?r=example.com", policy: allowExample, reason: "host not allowed"},
	{name: "allowed in path", in: "https://evil.net/example.com", policy: allowExample, reason: "host not allowed"},
	{name: "ip suffix", in: "http://127.0.0.1/", policy: Policy{AllowedHosts: []string{"0.0.1"}, AllowPrivate: true}, reason: "host not allowed"},
	{name: "invalid entries fail closed", in: "https://example.com/", policy: Policy{AllowedHosts: []string{"exa mple.com"}}, reason: "host not allowed"},
	{name: "wildcard entry is literal", in: "https://shop.example.com/", policy: Policy{AllowedHosts: []string{"*.example.com"}}, reason: "host not allowed"},
}

func TestNormalizeReject(t *testing.T) {
	for _, tt := range rejectCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Normalize(tt.in)
			if err == nil {
				t.Fatalf("Normalize(%q) = %q, want error", tt.in, got)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Normalize(%q) error %T, want *Error", tt.in, err)
			}
			if pe.Reason == "" || !strings.Contains(pe.Reason, tt.reason) {
				t.Fatalf("Normalize(%q) reason %q, want it to contain %q", tt.in, pe.Reason, tt.reason)
			}
			if got != "" {
				t.Fatalf("Normalize(%q) returned %q alongside an error", tt.in, got)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	err := (&Error{Reason: "host not allowed"}).Error()
	if !strings.Contains(err, "host not allowed") {
		t.Fatalf("Error() = %q, want it to contain the reason", err)
	}
}

func TestParseHostList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{in: "", want: nil},
		{in: " , ,, ", want: nil},
		{in: "example.com", want: []string{"example.com"}},
		{in: " Example.COM , .shop.example.org,, ..Other.NET. ", want: []string{"example.com", "shop.example.org", "other.net"}},
		{in: "bücher.de,BÜCHER.de,xn--bcher-kva.de", want: []string{"xn--bcher-kva.de"}},
		{in: "10.0.0.1, [::1], 0:0::1", want: []string{"10.0.0.1", "[::1]"}},
		// Invalid entries are kept so the list never silently becomes "allow all".
		{in: "exa mple.com", want: []string{"exa mple.com"}},
		{in: "*.Example.com", want: []string{"*.example.com"}},
	}
	for _, tt := range tests {
		if got := ParseHostList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseHostList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fuzzPolicies are checked on every fuzz input: the default one and a
// tight one that exercises the length and allow-list paths.
var fuzzPolicies = []Policy{
	{},
	{MaxLength: 64, AllowedHosts: ParseHostList("example.com, xn--bcher-kva.de, 127.0.0.1, [::1]"), AllowPrivate: true},
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"HTTP://Example.COM",
		"https://bücher.de/Straße?q=Ä#F",
		"http://[::1]:8080/",
		"https://example.com:443/a%2Fb",
		"http://user:pass@example.com/",
		"javascript:alert(1)",
		"//evil.com/x",
		`https://evil.com\@example.com/`,
		"http://example.com.:0080?x#y",
		"http://2130706433/",
		"http://ｅｘａｍｐｌｅ。com/",
		"http://a\u2135b.com/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range fuzzPolicies {
			checkNormalize(t, p, raw)
			// Random bytes rarely get past the scheme check; this also
			// drives the authority parser directly.
			checkNormalize(t, p, "https://"+raw)
		}
	})
}

// checkNormalize asserts the invariants every accepted URL must satisfy.
func checkNormalize(t *testing.T, p Policy, raw string) {
	out, err := p.Normalize(raw)
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) || pe.Reason == "" {
			t.Fatalf("Normalize(%q) error %#v is not a *Error with a reason", raw, err)
		}
		return
	}
	if !strings.HasPrefix(out, "http://") && !strings.HasPrefix(out, "https://") {
		t.Fatalf("Normalize(%q) = %q: bad scheme", raw, out)
	}
	if len(out) > p.maxLength() {
		t.Fatalf("Normalize(%q) = %q: %d bytes exceeds %d", raw, out, len(out), p.maxLength())
	}
	for i := 0; i < len(out); i++ {
		if out[i] <= ' ' || out[i] == 0x7f {
			t.Fatalf("Normalize(%q) = %q: control char or space at %d", raw, out, i)
		}
	}
	_, rest, _ := strings.Cut(out, "://")
	authority, _ := splitAuthority(rest)
	if strings.ContainsAny(authority, "@\\") || authority == "" {
		t.Fatalf("Normalize(%q) = %q: bad authority %q", raw, out, authority)
	}
	if _, host, _ := normalizeAuthority(authority, "http"); !p.AllowPrivate && !publicHost(host) {
		t.Fatalf("Normalize(%q) = %q: private host %q accepted by default", raw, out, host)
	}
	again, err := p.Normalize(out)
	if err != nil || again != out {
		t.Fatalf("not idempotent: Normalize(%q) = %q; Normalize(%q) = %q, %v", raw, out, out, again, err)
	}
	// Where net/url can parse the result, it must see the same host and no
	// userinfo; a disagreement would be an open-redirect bypass.
	if u, err := url.Parse(out); err == nil {
		if u.User != nil || u.Host != authority {
			t.Fatalf("Normalize(%q) = %q: net/url sees user %v host %q, we see %q", raw, out, u.User, u.Host, authority)
		}
	}
}
