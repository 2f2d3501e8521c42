package postgres

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/course-supporter/course-supporter/app/course"
)

// translate maps driver errors that are the client's fault to domain
// errors, in one place: data exceptions (class 22, e.g. a NUL byte in text)
// become EINVALID. Everything else passes through as internal.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		return course.Errorf(course.EINVALID, "Input contains characters or values that cannot be stored")
	}
	return err
}
