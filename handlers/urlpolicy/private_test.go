package urlpolicy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// Destinations a trusted short domain must not send SMS recipients to,
// refused by default and admitted with AllowPrivate.
var privateDestinations = []string{
	"http://169.254.169.254/latest/meta-data/", // cloud metadata (link-local)
	"http://127.0.0.1:22/",
	"http://127.8.9.10/",
	"http://localhost/",
	"http://LOCALHOST./",
	"http://app.localhost/",
	"http://10.0.0.1/",
	"http://172.16.5.4/",
	"http://192.168.1.1/admin",
	"http://100.100.100.200/latest/meta-data/", // Alibaba Cloud metadata (shared address space)
	"https://[::1]/",
	"http://[::]/",
	"http://[fe80::1]/",
	"http://[fd00:ec2::254]/", // AWS metadata over IPv6 (unique-local)
	"http://[fc00::1]/",
	"http://[ff02::1]/",
	"http://[::ffff:127.0.0.1]/",       // IPv4-mapped loopback
	"http://[::ffff:169.254.169.254]/", // IPv4-mapped metadata
	"http://[64:ff9b::a9fe:a9fe]/",     // NAT64 of 169.254.169.254
	"http://[2002:a00:1::]/",           // 6to4 of 10.0.0.1
	"http://metadata.google.internal/",
	"http://printer.local/",
	"http://nas.home.arpa/",
	"http://0.0.0.0/",
	"http://224.0.0.1/",
	"http://255.255.255.255/",
	"http://intranet/",
	"http://router:8080/",
}

func TestPrivateDestinationsRefusedByDefault(t *testing.T) {
	for _, raw := range privateDestinations {
		got, err := Policy{}.Normalize(raw)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "public Internet") {
			t.Errorf("Normalize(%q) = %q, %v; want refused as not public", raw, got, err)
		}
		if _, err := (Policy{AllowPrivate: true}).Normalize(raw); err != nil {
			t.Errorf("with AllowPrivate, Normalize(%q): %v", raw, err)
		}
	}
}

func TestPublicAddr(t *testing.T) {
	public := []string{"8.8.8.8", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.0", "172.32.0.1",
		"192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"}
	private := []string{"0.0.0.0", "0.1.2.3", "10.255.255.255", "100.64.0.1", "127.0.0.1", "169.254.169.254",
		"172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.0.1", "198.18.0.1", "198.51.100.1", "203.0.113.9",
		"224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "::127.0.0.1", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "fec0::1", "100::1",
		"2001::1", "2001:db8::1", "3fff::1", "64:ff9b::7f00:1", "2002:7f00:1::", "::ffff:10.0.0.1", "fe80::1%eth0"}
	for _, s := range public {
		if !PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("PublicAddr(%s) = false, want true", s)
		}
	}
	for _, s := range private {
		if PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("PublicAddr(%s) = true, want false", s)
		}
	}
	if PublicAddr(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}
