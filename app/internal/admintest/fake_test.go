package admintest_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/admintest"
)

func fakeSubject(t testing.TB) (admintest.Subject, *admintest.Fake) {
	f := admintest.NewFake(admintest.Defaults)
	return admintest.Subject{Admin: f, Expire: func(t testing.TB, id uuid.UUID) {
		t.Helper()
		if err := f.Expire(id); err != nil {
			t.Fatal(err)
		}
	}}, f
}

// Ensure the fake keeps the contract the PostgreSQL store keeps.
func TestFakeKeepsTheContract(t *testing.T) {
	admintest.Run(t, func(t *testing.T) admintest.Subject {
		s, _ := fakeSubject(t)
		return s
	})
}
