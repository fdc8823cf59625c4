package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/tbtrain/tbtrain/storage"
)

func Example() {
	dir, err := os.MkdirTemp("", "storage-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	var st storage.Store = storage.Local{}
	run := filepath.ToSlash(dir) + "/run"

	// Put is atomic and durable: temp file, fsync, rename, directory fsync.
	if err := st.Put(ctx, run+"/a.ckpt", []byte("checkpoint")); err != nil {
		log.Fatal(err)
	}
	// PutNew refuses an existing key.
	err = st.PutNew(ctx, run+"/a.ckpt", []byte("again"))
	fmt.Println("PutNew of an existing key:", errors.Is(err, fs.ErrExist))

	b, err := st.Get(ctx, run+"/a.ckpt", 0, 5)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("first 5 bytes: %s\n", b)
	list, err := st.List(ctx, run)
	if err != nil {
		log.Fatal(err)
	}
	for _, i := range list {
		fmt.Println(i.Name(), i.Size)
	}
	_, err = st.Get(ctx, run+"/missing", 0, -1)
	fmt.Println("missing:", errors.Is(err, fs.ErrNotExist))
	// Output:
	// PutNew of an existing key: true
	// first 5 bytes: check
	// a.ckpt 10
	// missing: true
}
