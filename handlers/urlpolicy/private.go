package urlpolicy

import (
	"net/netip"
	"strings"
)

// notPublic4 are the IPv4 ranges that are not globally reachable (IANA
// IPv4 Special-Purpose Address Registry) or that reach the hosting
// network rather than the Internet.
var notPublic4 = prefixes(
	"0.0.0.0/8",       // "this network", including the unspecified 0.0.0.0
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (carrier NAT; Alibaba Cloud metadata 100.100.100.200)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local (cloud metadata 169.254.169.254)
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, including broadcast 255.255.255.255
)

// notPublic6 are special-purpose ranges inside 2000::/3, the only block of
// global unicast IPv6; everything outside it (loopback, unspecified,
// unique-local fc00::/7 with AWS metadata fd00:ec2::254, link-local,
// multicast) is refused by that test alone.
var notPublic6 = prefixes(
	"2001::/23",     // IETF protocol assignments (Teredo, ORCHID, …)
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

var (
	global6   = netip.MustParsePrefix("2000::/3")
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // embeds an IPv4 address in its last 32 bits
	sixToFour = netip.MustParsePrefix("2002::/16")    // embeds an IPv4 address in bits 16–47
)

// PublicAddr reports whether a is a globally reachable unicast address:
// not loopback, private, link-local, unique-local, multicast, unspecified,
// shared (carrier NAT), documentation, benchmarking, reserved or a cloud
// metadata address. IPv6 forms that embed an IPv4 address (mapped, NAT64,
// 6to4) are judged by that address. A zone makes an address local.
func PublicAddr(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		return !inAny(a, notPublic4)
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return PublicAddr(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(a):
		return PublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return global6.Contains(a) && !inAny(a, notPublic6)
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// localSuffixes are names that never lead to the public Internet:
// localhost (RFC 6761), mDNS .local (RFC 6762), .home.arpa (RFC 8375),
// ICANN's private-use .internal (metadata.google.internal), and the
// common localdomain.
var localSuffixes = []string{"localhost", "localdomain", "local", "internal", "home.arpa"}

// publicHost reports whether a canonical host (see normalizeHost) names a
// place on the public Internet: a public IP literal, or a domain name of at
// least two labels outside the local-only suffixes. A single-label name
// ("intranet", "router") is resolved through the recipient's own network.
// Names are not resolved: the recipient's phone resolves them, later, and
// whatever we saw now could change by then.
func publicHost(host string) bool {
	if inner, ok := strings.CutPrefix(host, "["); ok {
		a, err := netip.ParseAddr(strings.TrimSuffix(inner, "]"))
		return err == nil && PublicAddr(a)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return PublicAddr(a)
	}
	if !strings.Contains(host, ".") {
		return false
	}
	for _, s := range localSuffixes {
		if host == s || strings.HasSuffix(host, "."+s) {
			return false
		}
	}
	return true
}
