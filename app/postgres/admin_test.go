package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/admintest"
	"github.com/course-supporter/course-supporter/app/internal/testdb"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// adminSubject is the store on a fresh database, with the hook that
// backdates a key's expiry in SQL.
func adminSubject(t *testing.T) (admintest.Subject, *postgres.DB) {
	t.Helper()
	db := mustOpen(t, testdb.New(t))
	return admintest.Subject{
		Admin: postgres.NewAdminService(db, admintest.Defaults),
		Expire: func(t testing.TB, id uuid.UUID) {
			t.Helper()
			tag, err := db.Pool.Exec(context.Background(),
				`UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = $1`, id)
			if err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("expire key %s: %v (%d rows)", id, err, tag.RowsAffected())
			}
		},
	}, db
}

// Ensure the store keeps the admin contract (the same cases the CLI's
// in-memory fake passes).
func TestAdminServiceKeepsTheContract(t *testing.T) {
	t.Parallel()
	admintest.Run(t, func(t *testing.T) admintest.Subject {
		s, _ := adminSubject(t)
		return s
	})
}

// Ensure only a key's SHA-256 and prefix are stored: the secret appears
// in no column.
func TestCreateKeyStoresOnlyHashAndPrefix(t *testing.T) {
	t.Parallel()
	s, db := adminSubject(t)
	ctx := context.Background()
	if _, err := s.Admin.CreateTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"live", "test"} {
		k, secret, err := s.Admin.CreateKey(ctx, course.NewAPIKey{TenantName: "acme", Scopes: []string{"prep"}, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		var hash, prefix, row string
		err = db.Pool.QueryRow(ctx, `SELECT key_hash, key_prefix, row_to_json(k)::text FROM api_keys k WHERE id = $1`,
			k.ID).Scan(&hash, &prefix, &row)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(secret))
		if hash != hex.EncodeToString(sum[:]) || prefix != secret[:16] {
			t.Fatalf("stored hash %s prefix %s", hash, prefix)
		}
		if strings.Contains(row, secret) || strings.Contains(row, secret[16:]) {
			t.Fatalf("the secret is stored: %s", row)
		}
	}
}
