package s3store_test

import (
	"fmt"

	"github.com/tbtrain/tbtrain/storage/s3store"
)

func ExampleConfigFromEnv() {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_REGION":            "eu-west-1",
		"S3_ENDPOINT":           "http://127.0.0.1:8333", // what TensorBoard reads
	}
	cfg, err := s3store.ConfigFromEnv(func(k string) string { return env[k] })
	fmt.Println(cfg.Endpoint, cfg.Region, err)

	bucket, key, err := s3store.ParseURL("s3://runs/team/lenet/2026-11-29_12-00-00/LenetMnist9.ckpt")
	fmt.Println(bucket, key, err)

	env["AWS_ENDPOINT_URL_S3"] = "http://10.9.9.9:9000"
	_, err = s3store.ConfigFromEnv(func(k string) string { return env[k] })
	fmt.Println(err)
	// Output:
	// http://127.0.0.1:8333 eu-west-1 <nil>
	// runs team/lenet/2026-11-29_12-00-00/LenetMnist9.ckpt <nil>
	// s3store: AWS_ENDPOINT_URL_S3=http://10.9.9.9:9000 and S3_ENDPOINT=http://127.0.0.1:8333 name different servers; set one, or both alike
}
