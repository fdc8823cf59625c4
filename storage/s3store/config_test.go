package s3store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env      map[string]string
		endpoint string
		err      string
	}{
		{env: nil, endpoint: ""},
		{env: map[string]string{"AWS_ENDPOINT_URL": "http://h:1"}, endpoint: "http://h:1"},
		{env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://a:1", "AWS_ENDPOINT_URL": "http://a:1/"}, endpoint: "http://a:1"},
		{env: map[string]string{"S3_ENDPOINT": "h:2", "S3_USE_HTTPS": "0"}, endpoint: "http://h:2"},
		{env: map[string]string{"S3_ENDPOINT": "ftp://h"}, err: "scheme"},
		{env: map[string]string{"S3_ENDPOINT": "http://h/path"}, err: "path"},
		{env: map[string]string{"S3_ENDPOINT": "!", "S3_USE_HTTPS": "0"}, err: "S3_ENDPOINT=http://!: endpoint host"},
		{env: map[string]string{"AWS_ENDPOINT_URL": "http://a:1", "S3_ENDPOINT": "http://b:1"}, err: "different servers"},
	} {
		c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err %v, want one containing %q", tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || c.Endpoint != tc.endpoint {
			t.Errorf("%v: endpoint %q, %v; want %q", tc.env, c.Endpoint, err, tc.endpoint)
		}
	}
}

// TestConfigCredentials: the credentials and region come from the AWS
// tools' variables (SeaweedFS in the tests accepts any credentials, so only
// this test would notice them ignored).
func TestConfigCredentials(t *testing.T) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
		"AWS_DEFAULT_REGION": "eu-west-1",
	}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "AKID" || c.SecretAccessKey != "SECRET" || c.SessionToken != "TOKEN" || c.Region != "eu-west-1" {
		t.Fatalf("ConfigFromEnv = %+v, want the AWS_* credentials and AWS_DEFAULT_REGION", c)
	}
	env["AWS_REGION"] = "ap-south-2"
	if c, _ := ConfigFromEnv(func(k string) string { return env[k] }); c.Region != "ap-south-2" {
		t.Fatalf("region %q, want AWS_REGION before AWS_DEFAULT_REGION", c.Region)
	}
}

func TestParseURL(t *testing.T) {
	for in, want := range map[string][2]string{
		"s3://b":          {"b", ""},
		"s3://b/":         {"b", ""},
		"s3://b/p/q/":     {"b", "p/q"},
		"s3://b/p/x.ckpt": {"b", "p/x.ckpt"},
	} {
		b, k, err := ParseURL(in)
		if err != nil || b != want[0] || k != want[1] {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", in, b, k, err, want[0], want[1])
		}
	}
	for _, in := range []string{"s3://", "s3:///k", "/tmp/x", "S3://b"} {
		if _, _, err := ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q): no error", in)
		}
	}
}

func TestTransient(t *testing.T) {
	// The real server's refusals are in TestServerDown; here, the answers
	// a loopback server cannot be made to give.
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errString("x"), false},
		{minio.ErrorResponse{StatusCode: 503, Code: "ServiceUnavailable"}, true},
		{minio.ErrorResponse{StatusCode: 500, Code: "InternalError"}, true},
		{minio.ErrorResponse{StatusCode: 429}, true},
		{minio.ErrorResponse{StatusCode: 503, Code: "SlowDown"}, true},
		{minio.ErrorResponse{StatusCode: 409, Code: "ConditionalRequestConflict"}, true},
		{minio.ErrorResponse{StatusCode: 404, Code: "NoSuchKey"}, false},
		{minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"}, false},
		{minio.ErrorResponse{StatusCode: 412, Code: "PreconditionFailed"}, false},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{io.ErrUnexpectedEOF, true},
		{fs.ErrExist, false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v", tc.err, got)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestTranslate(t *testing.T) {
	if err := translate(minio.ErrorResponse{StatusCode: 404, Code: "NoSuchKey"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NoSuchKey -> %v, want fs.ErrNotExist", err)
	}
	err := translate(minio.ErrorResponse{StatusCode: 404, Code: "NoSuchBucket", Message: "The specified bucket does not exist"})
	if !errors.Is(err, ErrNoBucket) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NoSuchBucket -> %v, want ErrNoBucket and not fs.ErrNotExist", err)
	}
}
