package fetch

import (
	"net/netip"
	"strings"
)

// forbidden4 lists the IPv4 ranges a user URL may never reach: everything
// that is not ordinary public unicast (IANA special-purpose registry plus
// CGNAT, multicast and the reserved/broadcast block).
var forbidden4 = mustPrefixes(
	"0.0.0.0/8",       // "this network", incl. 0.0.0.0
	"10.0.0.0/8",      // RFC 1918
	"100.64.0.0/10",   // CGNAT (RFC 6598)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, incl. cloud metadata 169.254.169.254
	"172.16.0.0/12",   // RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // TEST-NET-1
	"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
	"192.168.0.0/16",  // RFC 1918
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, incl. broadcast 255.255.255.255
)

var (
	// globalUnicast6 is the only IPv6 block handed out for public unicast;
	// anything outside it (::, ::1, ::/96, fc00::/7, fe80::/10, fec0::/10,
	// ff00::/8, 100::/64, 5f00::/16 ...) is refused, except NAT64 below.
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	// nat64 embeds an IPv4 address in its last 32 bits (RFC 6052); it gets
	// the verdict of that IPv4 address.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// sixToFour embeds an IPv4 address in bits 16..47 (RFC 3056).
	sixToFour = netip.MustParsePrefix("2002::/16")
	// forbidden6 are special-purpose blocks inside 2000::/3.
	forbidden6 = mustPrefixes(
		"2001::/23",     // IETF protocol assignments: Teredo, benchmarking, ORCHID, AS112 ...
		"2001:db8::/32", // documentation
		"3fff::/20",     // documentation (RFC 9637)
	)
)

func mustPrefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// IsForbidden reports whether a user-supplied URL must not connect to a.
// Invalid addresses are forbidden. IPv4-mapped (::ffff:a.b.c.d), NAT64
// (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::) forms are judged by the
// IPv4 address they embed; IPv4-compatible (::a.b.c.d) forms are always
// forbidden. Zones are ignored.
func IsForbidden(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		for _, p := range forbidden4 {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	b := a.As16()
	if nat64.Contains(a) {
		return IsForbidden(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if !globalUnicast6.Contains(a) {
		return true
	}
	if sixToFour.Contains(a) {
		return IsForbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	for _, p := range forbidden6 {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// isForbiddenName reports host names that are refused before any
// resolution: localhost, *.localhost and *.internal (cloud-internal DNS
// such as metadata.google.internal).
func isForbiddenName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost") ||
		h == "internal" || strings.HasSuffix(h, ".internal")
}
