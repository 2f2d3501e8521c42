package objstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/course-supporter/course-supporter/app/course"
)

var _ course.ObjectStore = (*Store)(nil)

// cleanupTimeout bounds an abort or delete that runs after a failure.
const cleanupTimeout = 30 * time.Second

// errStorage marks a failure of the storage server. The domain error is
// what clients see (503 "Storage unavailable"); the joined cause is only
// for logs. errors.As finds the *course.Error through the join.
func errStorage(err error) error {
	return errors.Join(course.Errorf(course.EUNAVAILABLE, "Storage unavailable"), err)
}

// errCall classifies the error of a storage call made with ctx: the
// caller's cancellation stays a context error (errors.Is works on it, and
// it is not the storage's fault); anything else is EUNAVAILABLE.
func errCall(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, context.Cause(ctx))
	}
	return errStorage(fmt.Errorf("%s: %w", op, err))
}

func errNotFound() error { return course.Errorf(course.ENOTFOUND, "Object not found") }

// cleanupContext outlives the caller's cancellation (a client that went
// away must still not leave parts or objects behind), but not forever.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func isNotFound(err error) bool {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return true
	}
	switch apiCode(err) {
	case "NotFound", "NoSuchKey", "404":
		return true
	}
	return false
}
