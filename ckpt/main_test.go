//go:build unix

package ckpt

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tbtrain/tbtrain/internal/faultinject"
	"github.com/tbtrain/tbtrain/internal/s3test"
)

// childEnv makes the test binary act as a helper process for tests that need
// another user or a process to kill: "perm:<dir>" runs permissionChild,
// "save:<path>" saves one checkpoint (with the commit delay the parent sets
// in faultinject.CommitDelayEnv).
const childEnv = "CKPT_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode, arg, ok := strings.Cut(os.Getenv(childEnv), ":"); ok {
		var err error
		switch mode {
		case "perm":
			err = permissionChild(arg)
			if err == nil {
				fmt.Println("perm-ok")
			}
		case "save":
			// The parent sets the commit delay in the environment; the
			// test binary, like cmd/train, installs it through faultinject.
			if _, err = faultinject.FromEnv(os.Getenv); err == nil {
				err = Save(arg, sample(99, true))
			}
		default:
			err = fmt.Errorf("unknown child mode %q", mode)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	s3test.Main(m) // m.Run, then stop the S3 test server if a test started one
}
