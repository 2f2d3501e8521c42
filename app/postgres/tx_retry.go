package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// txAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted as a deadlock victim or for a serialization failure. Such an
// abort rolls everything back, so running the function again is safe; it
// happens when a worker's fingerprint invalidation (which takes no tree
// lock) and an API change of the same tree update the same ancestor rows
// in different orders (the load test of bench/load found it as 500s on
// node moves).
const txAttempts = 3

// retryableTx says whether err aborted the transaction in a way the
// PostgreSQL documentation says to answer by retrying it.
func retryableTx(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}
