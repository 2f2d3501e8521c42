package fetch

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
)

// TestControlHook checks the last line of defence on its own: the dialer's
// Control hook, which runs just before connect(2) on the address actually
// being connected, refuses forbidden addresses and ports even if everything
// before it were bypassed.
func TestControlHook(t *testing.T) {
	f := New(Options{})
	cases := map[string]string{
		"127.0.0.1:80":                "Destination address is not allowed",
		"[::ffff:169.254.169.254]:80": "Destination address is not allowed",
		"[fe80::1%eth0]:443":          "Destination address is not allowed",
		"8.8.8.8:22":                  "Port 22 is not allowed",
		"not-an-address":              "Destination address is not allowed",
		"8.8.8.8:443":                 "",
		"[2606:4700:4700::1111]:80":   "",
	}
	for addr, msg := range cases {
		err := f.control("tcp", addr, nil)
		if msg == "" {
			if err != nil {
				t.Errorf("%s: %v", addr, err)
			}
			continue
		}
		var ce *course.Error
		if !errors.As(err, &ce) || ce.Message != msg {
			t.Errorf("%s: err = %v, want %q", addr, err, msg)
		}
	}
	// The test exception and AllowPrivate are honoured by the same hook.
	f = New(Options{allowAddr: func(a netip.Addr) bool { return a.IsLoopback() }})
	if err := f.control("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("allowAddr: %v", err)
	}
	if err := New(Options{AllowPrivate: true}).control("tcp", "10.0.0.1:443", nil); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}
