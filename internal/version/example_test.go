package version_test

import (
	"fmt"
	"runtime/debug"

	"github.com/tbtrain/tbtrain/internal/version"
)

// What a binary built with `go build` in a clean git clone reports.
func ExampleFromBuildInfo() {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/tbtrain/tbtrain", Version: "v0.0.0-20261202183000-9e89d9e2abcd"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs.revision", Value: "9e89d9e2abcd4f0cfb0b5a4c2f7b8e39a1d2c3e4"},
			{Key: "vcs.time", Value: "2026-12-02T18:30:00Z"},
		},
	}
	fmt.Println(version.FromBuildInfo(bi))
	// Output:
	// github.com/tbtrain/tbtrain v0.0.0-20261202183000-9e89d9e2abcd, revision 9e89d9e2abcd4f0cfb0b5a4c2f7b8e39a1d2c3e4 (2026-12-02T18:30:00Z), go1.26.8 linux/amd64
}
