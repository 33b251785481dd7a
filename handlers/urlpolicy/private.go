package urlpolicy

import "net/netip"

// nonPublic are ranges that netip's predicates do not cover: "this
// network", carrier-grade NAT (RFC 6598) and the reserved class E.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// PublicAddr reports whether a is a public unicast address: not loopback,
// private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (including
// the cloud metadata address 169.254.169.254 and fe80::/10), multicast,
// unspecified, carrier-grade NAT or reserved. IPv4-mapped IPv6 addresses
// (::ffff:10.0.0.1) are judged as the IPv4 address they carry.
func PublicAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	if a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
