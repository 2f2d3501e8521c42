package fetch

import (
	"crypto/tls"
	"net/netip"
)

// WithAllowAddr returns o with an exception hook: addresses for which fn
// returns true are allowed even though IsForbidden refuses them.
func WithAllowAddr(o Options, fn func(netip.Addr) bool) Options {
	o.allowAddr = fn
	return o
}

// WithOnDial returns o with a hook observing every address dialled.
func WithOnDial(o Options, fn func(netip.AddrPort)) Options {
	o.onDial = fn
	return o
}

// WithTLSConfig returns o with a TLS client config (to trust test CAs).
func WithTLSConfig(o Options, c *tls.Config) Options {
	o.tlsConfig = c
	return o
}

// IsForbiddenName exposes the pre-resolution name check.
var IsForbiddenName = isForbiddenName
