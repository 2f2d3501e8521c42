package admintest_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/admintest"
)

// recorder is a testing.TB whose failures are recorded instead of
// reported, so a case can be run against a broken service and expected to
// fail. Fatal ends the case's goroutine as testing.T does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); runtime.Goexit() }
func (r *recorder) FailNow()                          { r.Fatal("FailNow") }
func (r *recorder) Fail()                             { r.Error("Fail") }
func (r *recorder) Failed() bool                      { r.mu.Lock(); defer r.mu.Unlock(); return len(r.failed) > 0 }

// fails reports whether case c fails on the service wrap makes of a fresh
// fake.
func fails(t *testing.T, c admintest.Case, wrap func(*admintest.Fake) course.AdminService) bool {
	s, f := fakeSubject(t)
	s.Admin = wrap(f)
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); c.Run(r, s) }()
	<-done
	return r.Failed()
}

// Each mutant breaks one rule of the contract.
type (
	dupTenants     struct{ *admintest.Fake }
	unsorted       struct{ *admintest.Fake }
	countsAll      struct{ *admintest.Fake }
	noDefaults     struct{ *admintest.Fake }
	newestFirst    struct{ *admintest.Fake }
	revokesFirst   struct{ *admintest.Fake }
	revokeTwice    struct{ *admintest.Fake }
	ghostIsInvalid struct{ *admintest.Fake }
	sticky         struct{ *admintest.Fake }
)

func (m dupTenants) CreateTenant(ctx context.Context, name string) (*course.Tenant, error) {
	tn, err := m.Fake.CreateTenant(ctx, name)
	if course.ErrorCode(err) == course.ECONFLICT {
		return &course.Tenant{Name: name}, nil
	}
	return tn, err
}

func (m unsorted) ListTenants(ctx context.Context) ([]course.Tenant, error) {
	ts, err := m.Fake.ListTenants(ctx)
	slices.Reverse(ts)
	return ts, err
}

func (m countsAll) ListTenants(ctx context.Context) ([]course.Tenant, error) {
	ts, err := m.Fake.ListTenants(ctx)
	for i := range ts {
		ks, _ := m.ListKeys(ctx, ts[i].Name)
		ts[i].ActiveKeys = len(ks)
	}
	return ts, err
}

func (m noDefaults) CreateKey(ctx context.Context, in course.NewAPIKey) (*course.APIKey, string, error) {
	if in.RateLimitPrep == 0 {
		in.RateLimitPrep = 60
	}
	return m.Fake.CreateKey(ctx, in)
}

func (m newestFirst) ListKeys(ctx context.Context, tenant string) ([]course.APIKey, error) {
	ks, err := m.Fake.ListKeys(ctx, tenant)
	slices.Reverse(ks)
	return ks, err
}

func (m revokesFirst) RevokeKey(ctx context.Context, sel string) (*course.APIKey, error) {
	k, err := m.Fake.RevokeKey(ctx, sel)
	if course.ErrorCode(err) == course.ECONFLICT {
		if p, perr := course.ParseKeySelector(sel); perr == nil && p.Prefix != "" {
			for _, tn := range must(m.ListTenants(ctx)) {
				for _, c := range must(m.ListKeys(ctx, tn.Name)) {
					if c.IsActive && len(c.Prefix) >= len(p.Prefix) && c.Prefix[:len(p.Prefix)] == p.Prefix {
						return m.Fake.RevokeKey(ctx, c.ID.String())
					}
				}
			}
		}
	}
	return k, err
}

func (m revokeTwice) RevokeKey(ctx context.Context, sel string) (*course.APIKey, error) {
	k, err := m.Fake.RevokeKey(ctx, sel)
	if course.ErrorCode(err) == course.ECONFLICT {
		return &course.APIKey{}, nil
	}
	return k, err
}

func (m ghostIsInvalid) ListKeys(ctx context.Context, tenant string) ([]course.APIKey, error) {
	ks, err := m.Fake.ListKeys(ctx, tenant)
	if course.ErrorCode(err) == course.ENOTFOUND {
		return nil, course.Errorf(course.EINVALID, "%s", course.ErrorMessage(err))
	}
	return ks, err
}

func (m sticky) SetTenantActive(ctx context.Context, name string, _ bool) (*course.Tenant, error) {
	return m.Fake.SetTenantActive(ctx, name, true)
}

func must[T any](v T, _ error) T { return v }

// Ensure the contract can fail: every mutant, which breaks one rule, is
// caught by at least one case, and the unbroken fake by none.
func TestEveryMutantIsCaught(t *testing.T) {
	mutants := map[string]func(*admintest.Fake) course.AdminService{
		"duplicate tenant accepted":        func(f *admintest.Fake) course.AdminService { return dupTenants{f} },
		"tenants not by name":              func(f *admintest.Fake) course.AdminService { return unsorted{f} },
		"revoked and expired keys counted": func(f *admintest.Fake) course.AdminService { return countsAll{f} },
		"default prep limit ignored":       func(f *admintest.Fake) course.AdminService { return noDefaults{f} },
		"keys newest first":                func(f *admintest.Fake) course.AdminService { return newestFirst{f} },
		"ambiguous prefix revokes one":     func(f *admintest.Fake) course.AdminService { return revokesFirst{f} },
		"second revocation succeeds":       func(f *admintest.Fake) course.AdminService { return revokeTwice{f} },
		"unknown tenant listed as invalid": func(f *admintest.Fake) course.AdminService { return ghostIsInvalid{f} },
		"deactivation ignored":             func(f *admintest.Fake) course.AdminService { return sticky{f} },
	}
	intact := func(f *admintest.Fake) course.AdminService { return f }
	for _, c := range admintest.Cases() {
		if fails(t, c, intact) {
			t.Errorf("case %s fails on the intact fake", c.Name)
		}
	}
	for name, wrap := range mutants {
		var caughtBy []string
		for _, c := range admintest.Cases() {
			if fails(t, c, wrap) {
				caughtBy = append(caughtBy, c.Name)
			}
		}
		if len(caughtBy) == 0 {
			t.Errorf("mutant %q passes every case", name)
		}
		t.Logf("mutant %q caught by %v", name, caughtBy)
	}
}
