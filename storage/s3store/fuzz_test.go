package s3store

import (
	"strings"
	"testing"
)

// FuzzParseURL: any string gives a bucket and key or an error, never a
// panic; a bucket has no '/', a key no trailing '/', and the pair parses
// back from the URL it makes.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://b/k", "s3://b", "s3://b/", "s3:///k", "s3://b/a/b/c//", "S3://b/k", "b/k", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, k, err := ParseURL(s)
		if err != nil {
			return
		}
		if b == "" || strings.Contains(b, "/") || strings.HasSuffix(k, "/") {
			t.Fatalf("ParseURL(%q) = %q, %q", s, b, k)
		}
		b2, k2, err := ParseURL(Scheme + b + "/" + k)
		if err != nil || b2 != b || k2 != k {
			t.Fatalf("ParseURL(%q) = %q, %q; its URL parses to %q, %q, %v", s, b, k, b2, k2, err)
		}
	})
}

// FuzzEndpoint: whatever the endpoint variables hold, ConfigFromEnv gives
// a configuration or an error, never a panic, and a configuration it
// accepts makes a Store.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8333", "https://s3.example.com/", "h:2", "ftp://h", "http://h/path", "http://", "::", "http://[::1]:9000"} {
		f.Add(s, "0")
	}
	f.Fuzz(func(t *testing.T, endpoint, useHTTPS string) {
		env := map[string]string{EnvTensorBoardEndpoint: endpoint, EnvUseHTTPS: useHTTPS}
		c, err := ConfigFromEnv(func(k string) string { return env[k] })
		if err != nil {
			return
		}
		if _, err := New("bucket", c); err != nil {
			t.Fatalf("ConfigFromEnv accepted endpoint %q (%+v) but New refuses it: %v", endpoint, c, err)
		}
	})
}
