package fetch_test

import (
	"net/netip"
	"testing"

	"github.com/course-supporter/course-supporter/app/fetch"
)

func TestIsForbidden(t *testing.T) {
	forbidden := []string{
		// IPv4
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255",
		"127.0.0.1", "127.255.255.254", "169.254.0.1", "169.254.169.254", "172.16.0.1",
		"172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1",
		"198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1",
		"239.255.255.250", "240.0.0.1", "255.255.255.255",
		// IPv6
		"::", "::1", "fe80::1", "fe80::1%eth0", "febf::1", "fec0::1", "fc00::1", "fd00::1",
		"fd00:ec2::254", "ff02::1", "ff05::2", "2001:db8::1", "3fff::1", "100::1", "5f00::1",
		"2001::1", "2001:2::1", "2001:10::1",
		// IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms of refused IPv4
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
		"::127.0.0.1", "::10.0.0.1", "::8.8.8.8", // IPv4-compatible is always refused
		"64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b:1::1",
		"2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101::",
	}
	allowed := []string{
		"1.1.1.1", "8.8.8.8", "93.184.216.34", "9.255.255.255", "11.0.0.1", "100.63.255.255",
		"100.128.0.0", "126.255.255.255", "128.0.0.1", "169.253.255.255", "169.255.0.1",
		"172.15.255.255", "172.32.0.1", "192.167.255.255", "192.169.0.1", "198.17.255.255",
		"198.20.0.1", "223.255.255.255",
		"2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888",
		"::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1",
	}
	for _, s := range forbidden {
		if !fetch.IsForbidden(netip.MustParseAddr(s)) {
			t.Errorf("IsForbidden(%s) = false, want true", s)
		}
	}
	for _, s := range allowed {
		if fetch.IsForbidden(netip.MustParseAddr(s)) {
			t.Errorf("IsForbidden(%s) = true, want false", s)
		}
	}
	if !fetch.IsForbidden(netip.Addr{}) {
		t.Error("the zero Addr must be forbidden")
	}
}

func TestIsForbiddenName(t *testing.T) {
	for _, s := range []string{"localhost", "LOCALHOST", "localhost.", "a.localhost", "metadata.google.internal", "x.internal."} {
		if !fetch.IsForbiddenName(s) {
			t.Errorf("IsForbiddenName(%q) = false", s)
		}
	}
	for _, s := range []string{"example.com", "localhost.example.com", "internal.example.com", "mylocalhost"} {
		if fetch.IsForbiddenName(s) {
			t.Errorf("IsForbiddenName(%q) = true", s)
		}
	}
}

// FuzzIsForbidden checks that every spelling of one IPv4 address gets the
// same verdict, that zones never matter, and that nothing IsForbidden allows
// is loopback, private, link-local, multicast or unspecified by the
// standard library's own classification.
func FuzzIsForbidden(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "8.8.8.8", "169.254.169.254", "::ffff:10.0.0.1", "fe80::1", "2606:4700::1"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var b16 [16]byte
		copy(b16[:], b)
		var b4 [4]byte
		copy(b4[:], b)

		v4 := netip.AddrFrom4(b4)
		want := fetch.IsForbidden(v4)
		mapped := netip.AddrFrom16(v4.As16())
		if got := fetch.IsForbidden(mapped); got != want {
			t.Fatalf("%s: %v but mapped %s: %v", v4, want, mapped, got)
		}
		n := [16]byte{0, 0x64, 0xff, 0x9b, 10: 0, 11: 0, 12: b4[0], 13: b4[1], 14: b4[2], 15: b4[3]}
		if got := fetch.IsForbidden(netip.AddrFrom16(n)); got != want {
			t.Fatalf("%s: %v but NAT64 %s: %v", v4, want, netip.AddrFrom16(n), got)
		}
		compat := [16]byte{12: b4[0], 13: b4[1], 14: b4[2], 15: b4[3]}
		if !fetch.IsForbidden(netip.AddrFrom16(compat)) {
			t.Fatalf("IPv4-compatible %s allowed", netip.AddrFrom16(compat))
		}
		s2 := [16]byte{0x20, 0x02, b4[0], b4[1], b4[2], b4[3]}
		copy(s2[6:], b16[6:])
		if want && !fetch.IsForbidden(netip.AddrFrom16(s2)) {
			t.Fatalf("6to4 %s of forbidden %s allowed", netip.AddrFrom16(s2), v4)
		}

		for _, a := range []netip.Addr{v4, netip.AddrFrom16(b16)} {
			verdict := fetch.IsForbidden(a)
			if a.Is6() && fetch.IsForbidden(a.WithZone("eth0")) != verdict {
				t.Fatalf("%s: zone changes the verdict", a)
			}
			if verdict {
				continue
			}
			u := a.Unmap()
			if u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() ||
				u.IsInterfaceLocalMulticast() || u.IsMulticast() || u.IsUnspecified() || !u.IsGlobalUnicast() {
				t.Fatalf("%s allowed but not public unicast", a)
			}
		}
	})
}
