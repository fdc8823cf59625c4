package s3store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tbtrain/tbtrain/storage"
)

// Config says how to reach a bucket. The zero value talks to AWS S3 in
// us-east-1 anonymously; [ConfigFromEnv] fills it the way the AWS tools and
// TensorBoard read their environment.
type Config struct {
	// Endpoint is the server's URL, e.g. "http://127.0.0.1:8333". A URL
	// without a scheme is taken as https. "" means AWS S3.
	Endpoint string
	// AccessKeyID, SecretAccessKey and SessionToken sign requests; with no
	// key ID and no secret requests are anonymous.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Region is the signing region; "" means us-east-1.
	Region string
	// VirtualHost selects virtual-host-style addressing
	// (bucket.host/key). The default, path style (host/bucket/key), is
	// what self-hosted servers such as SeaweedFS and MinIO serve; with no
	// Endpoint (AWS) the client picks the style itself.
	VirtualHost bool
	// Retry bounds the retries of transient errors; see [Retry].
	Retry Retry
}

// Retry is the retry policy of a Store: a request that fails with a transient
// error (the connection refused or reset, a timeout, HTTP 5xx, 429 or S3's
// SlowDown) is made again after a pause that starts at Base and doubles up
// to Max, until it succeeds, fails with a permanent error, or For has passed
// since the first attempt. Each attempt may take at most Attempt. Zero
// fields take the defaults below.
type Retry struct {
	Base    time.Duration // first pause; default 250 ms
	Max     time.Duration // longest pause; default 8 s
	For     time.Duration // give up once this long has passed; default 60 s
	Attempt time.Duration // timeout of one attempt; default 60 s
}

// Defaults of [Retry]. 60 s outlasts a restart of a self-hosted server (a
// SeaweedFS restart on loopback took about 5 s) and the few seconds of S3
// throttling that the AWS SDKs' standard retry mode (3 attempts, capped
// exponential backoff) rides out, while a server that stays down fails a
// run within about a minute.
const (
	DefaultRetryBase    = 250 * time.Millisecond
	DefaultRetryMax     = 8 * time.Second
	DefaultRetryFor     = 60 * time.Second
	DefaultRetryAttempt = 60 * time.Second
)

func (r Retry) withDefaults() Retry {
	if r.Base <= 0 {
		r.Base = DefaultRetryBase
	}
	if r.Max <= 0 {
		r.Max = DefaultRetryMax
	}
	if r.For <= 0 {
		r.For = DefaultRetryFor
	}
	if r.Attempt <= 0 {
		r.Attempt = DefaultRetryAttempt
	}
	return r
}

// Environment variables read by [ConfigFromEnv].
const (
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	EnvRegion          = "AWS_REGION"
	EnvDefaultRegion   = "AWS_DEFAULT_REGION"
	// EnvEndpointS3 and EnvEndpoint are the AWS SDKs' service-specific and
	// global endpoint overrides.
	EnvEndpointS3 = "AWS_ENDPOINT_URL_S3"
	EnvEndpoint   = "AWS_ENDPOINT_URL"
	// EnvTensorBoardEndpoint is the variable TensorBoard's S3 file system
	// passes to boto3 as endpoint_url
	// (tensorboard/compat/tensorflow_stub/io/gfile.py, S3FileSystem).
	EnvTensorBoardEndpoint = "S3_ENDPOINT"
	// EnvUseHTTPS set to "0" makes an endpoint without a scheme plain
	// http, as TensorFlow's S3 file system reads it.
	EnvUseHTTPS = "S3_USE_HTTPS"
)

// ConfigFromEnv builds a Config from the environment (getenv nil means
// os.Getenv): the keys from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN; the region from AWS_REGION or AWS_DEFAULT_REGION; the
// endpoint from AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or TensorBoard's
// S3_ENDPOINT. Setting more than one endpoint variable to different values
// is an error: the trainer and TensorBoard would read different servers.
// Shared credential files (~/.aws) are not read: their credential_process
// entries run programs.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{
		AccessKeyID:     getenv(EnvAccessKeyID),
		SecretAccessKey: getenv(EnvSecretAccessKey),
		SessionToken:    getenv(EnvSessionToken),
		Region:          getenv(EnvRegion),
	}
	if c.Region == "" {
		c.Region = getenv(EnvDefaultRegion)
	}
	var from string
	for _, name := range []string{EnvEndpointS3, EnvEndpoint, EnvTensorBoardEndpoint} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		if getenv(EnvUseHTTPS) == "0" && !strings.Contains(v, "://") {
			v = "http://" + v
		}
		switch {
		case c.Endpoint == "":
			c.Endpoint, from = v, name
		case normEndpoint(v) != normEndpoint(c.Endpoint):
			return Config{}, fmt.Errorf("s3store: %s=%s and %s=%s name different servers; set one, or both alike", from, c.Endpoint, name, v)
		}
	}
	if c.Endpoint != "" {
		if _, _, err := parseEndpoint(c.Endpoint); err != nil {
			return Config{}, fmt.Errorf("s3store: %s=%s: %w", from, c.Endpoint, err)
		}
	}
	return c, nil
}

func normEndpoint(s string) string {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	return strings.TrimSuffix(s, "/")
}

// parseEndpoint splits an endpoint URL into the host[:port] minio-go wants
// and whether it uses TLS.
func parseEndpoint(s string) (host string, secure bool, err error) {
	u, err := url.Parse(normEndpoint(s))
	if err != nil {
		return "", false, err
	}
	switch u.Scheme {
	case "http":
	case "https":
		secure = true
	default:
		return "", false, fmt.Errorf("endpoint scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return "", false, errors.New("endpoint has no host")
	}
	if u.Path != "" && u.Path != "/" {
		return "", false, fmt.Errorf("endpoint has a path %q; give only scheme://host:port", u.Path)
	}
	// minio-go checks the host (a domain name or an IP address) when a
	// client is made; making one here (no request is sent) lets
	// ConfigFromEnv report a bad host naming its variable.
	if _, err := minio.New(u.Host, &minio.Options{Secure: secure}); err != nil {
		return "", false, fmt.Errorf("endpoint host %q: %w", u.Host, err)
	}
	return u.Host, secure, nil
}

// ParseURL splits an s3://bucket/key URL. The key may be empty (the whole
// bucket) and loses any trailing '/'.
func ParseURL(s string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return "", "", fmt.Errorf("s3store: %q is not an s3:// URL", s)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("s3store: %q names no bucket", s)
	}
	key = strings.TrimRight(key, "/")
	return bucket, key, nil
}

// Scheme is the URL scheme of S3 locations.
const Scheme = "s3://"

// IsURL reports whether s is an s3:// URL.
func IsURL(s string) bool { return strings.HasPrefix(s, Scheme) }

// Opener returns a [storage.Opener] for s3:// locations, for
// storage.Register("s3", ...). The configuration is read from getenv (see
// [ConfigFromEnv]) at the first location opened, with retry as its retry
// policy (zero fields: the defaults); one Store per bucket is made and
// reused.
func Opener(getenv func(string) string, retry Retry) storage.Opener {
	var (
		mu     sync.Mutex
		cfg    *Config
		stores = map[string]*Store{}
	)
	return func(u string) (storage.Store, string, error) {
		bucket, key, err := ParseURL(u)
		if err != nil {
			return nil, "", err
		}
		mu.Lock()
		defer mu.Unlock()
		if cfg == nil {
			c, err := ConfigFromEnv(getenv)
			if err != nil {
				return nil, "", err
			}
			c.Retry = retry
			cfg = &c
		}
		st := stores[bucket]
		if st == nil {
			if st, err = New(bucket, *cfg); err != nil {
				return nil, "", err
			}
			stores[bucket] = st
		}
		return st, key, nil
	}
}
