package objstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CreateBucket creates the configured bucket if it does not exist. The
// service never does this in production (the bucket is provisioned by the
// operator); development setups and tests use it.
func CreateBucket(ctx context.Context, o Options) error {
	c := newClient(o, o.Endpoint)
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(o.Bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", o.Bucket, err)
	}
	return nil
}
