package main

import (
	"context"
	"os"

	"github.com/tbtrain/tbtrain/storage"
	"github.com/tbtrain/tbtrain/storage/s3store"
)

// registerStores lets tbdump read s3:// locations, configured from the
// environment the AWS tools and TensorBoard read (see s3store.ConfigFromEnv).
func registerStores() { storage.Register("s3", s3store.Opener(os.Getenv, s3store.Retry{})) }

// stat describes a local path or a store URL (a prefix with objects below
// it is a directory).
func stat(loc string) (storage.Info, error) {
	st, key, err := storage.For(loc)
	if err != nil {
		return storage.Info{}, err
	}
	return st.Stat(context.Background(), key)
}
