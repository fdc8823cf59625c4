package main

import (
	"os"

	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/storage/s3store"
)

// registerStores lets tbdump read s3:// locations, configured from the
// environment the AWS tools and TensorBoard read (see s3store.ConfigFromEnv).
func registerStores() { storage.Register("s3", s3store.Opener(os.Getenv, s3store.Retry{})) }
