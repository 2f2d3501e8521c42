// Command uploadbase provides the two reference points of
// bench/upload/run.sh, each printing one JSON line with its wall and CPU
// time:
//
//   - multipart: the file uploaded straight to S3 as a multipart upload with
//     the app's part size (10 MiB) and parts in flight (2), unsigned payload
//     and the same SDK settings; what a client using presigned multipart
//     would do. Parts are read from the file straight into the request.
//
//   - floor: what any upload through the app must at least do: SHA-256 of
//     every byte (raw_hash) and one copy from a loopback socket to another.
//
//     go run ./bench/uploadbase -mode multipart -file F -endpoint URL -bucket B -key K
//     go run ./bench/uploadbase -mode floor -file F
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	partSize      = 10 << 20 // the app's part buffer
	partsInFlight = 2        // the app's two buffers
)

func main() {
	mode := flag.String("mode", "", "multipart or floor")
	file := flag.String("file", "", "file to upload")
	endpoint := flag.String("endpoint", "", "S3 endpoint (multipart)")
	bucket := flag.String("bucket", "bench", "bucket (multipart)")
	key := flag.String("key", "direct/multipart.bin", "object key (multipart)")
	listen := flag.String("listen", "127.0.0.1:0", "address to accept one connection on (floor, sink)")
	to := flag.String("to", "", "address to forward to (floor)")
	flag.Parse()
	start := time.Now()
	var err error
	switch *mode {
	case "multipart":
		err = multipart(context.Background(), *file, *endpoint, *bucket, *key)
	case "floor":
		err = floor(*listen, *to)
	case "sink":
		err = sink(*listen)
	default:
		err = errors.New("-mode multipart|floor|sink")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "uploadbase:", err)
		os.Exit(1)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	_ = json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"seconds": time.Since(start).Seconds(), "cpu_seconds": cpu.Seconds(),
	})
}

func multipart(ctx context.Context, file, endpoint, bucket, key string) error {
	f, err := os.Open(file) //nolint:gosec // G304: the file to upload is the program's argument
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(os.Getenv("S3_ACCESS_KEY"), os.Getenv("S3_SECRET_KEY"), ""),
		HTTPClient:                 &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	unsigned := func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	}
	created, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ContentType: aws.String("video/mp4"),
	})
	if err != nil {
		return err
	}
	n := int((st.Size() + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	errs := make([]error, n)
	sem := make(chan struct{}, partsInFlight)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			off := int64(i) * partSize
			size := min(partSize, st.Size()-off)
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), ContentLength: aws.Int64(size), //nolint:gosec // n <= 10000
				Body: io.NewSectionReader(f, off, size),
			}, unsigned)
			if err != nil {
				errs[i] = err
				return
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))} //nolint:gosec // n <= 10000
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// floor is the least any upload through the app must do: accept a
// connection, read every byte from it, hash it (raw_hash), and write it to
// another connection (the object store). The sender (cat) and the
// receiver (-mode sink) are other processes, as curl and versitygw are for
// the app, so this process's CPU time is the floor of the app's.
func floor(listen, to string) error {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	in, err := ln.Accept()
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := new(net.Dialer).DialContext(context.Background(), "tcp", to)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	buf := make([]byte, 256<<10)
	for {
		n, rerr := in.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	_ = hex.EncodeToString(h.Sum(nil))
	return nil
}

// sink accepts one connection and discards what it sends.
func sink(listen string) error {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.Copy(io.Discard, c)
	return err
}
