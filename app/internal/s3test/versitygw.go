package s3test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Versitygw starts a real S3 server (versitygw, posix backend in a
// temporary directory) with one bucket: it verifies SigV4 signatures and
// answers listings with real LastModified times and multipart uploads,
// which gofakes3 does not do faithfully. It stops when the test ends.
func Versitygw(tb testing.TB, bucket string) (endpoint, access, secret string) {
	tb.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			tb.Fatalf("versitygw is required (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0): %v", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	access, secret = "vgwaccess", "vgwsecret-vgwsecret"
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "posix", tb.TempDir())
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	endpoint = "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("versitygw did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := PlainClient(endpoint, access, secret).CreateBucket(context.Background(),
		&s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	return endpoint, access, secret
}

// PlainClient is an SDK client (path-style) for assertions and set-up that
// must not go through the code under test.
func PlainClient(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, ""),
	})
}

// PlainUploads lists the keys of the unfinished multipart uploads of
// bucket (one page is enough for a test).
func PlainUploads(tb testing.TB, c *s3.Client, bucket string) []string {
	tb.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		tb.Fatalf("list multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}
