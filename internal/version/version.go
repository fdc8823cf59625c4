package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Module is tbtrain's module path.
const Module = "github.com/tbtrain/tbtrain"

// Info is what a binary knows of the tbtrain code it was built from.
type Info struct {
	Version   string // module version: a release or pseudo-version, or "(devel)"; "" if unknown
	Revision  string // VCS revision (full git hash); "" if not stamped
	Time      string // commit time of Revision, RFC 3339; "" if not stamped
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string // the Go toolchain that built the binary, e.g. "go1.26.8"
	Platform  string // GOOS/GOARCH the binary runs on
}

var (
	once    sync.Once
	current Info
)

// Current returns the Info of the running binary.
func Current() Info {
	once.Do(func() {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			current = Info{GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
			return
		}
		current = FromBuildInfo(bi)
	})
	return current
}

// FromBuildInfo extracts tbtrain's Info from a binary's build information:
// the main module's version and VCS settings when tbtrain is the main
// module, the required version when it is a dependency.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{GoVersion: bi.GoVersion}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos == "" || goarch == "" {
		goos, goarch = runtime.GOOS, runtime.GOARCH
	}
	info.Platform = goos + "/" + goarch
	if bi.Main.Path == Module {
		info.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
		return info
	}
	for _, d := range bi.Deps {
		if d.Path == Module {
			info.Version = d.Version
			if d.Replace != nil {
				info.Version = d.Replace.Version
				if info.Version == "" {
					info.Version = "(replaced by " + d.Replace.Path + ")"
				}
			}
		}
	}
	return info
}

// String renders info on one line, for --version and the config text:
//
//	github.com/tbtrain/tbtrain v0.0.0-20261202183000-9e89d9e2abcd, revision 9e89d9e2abcd4f0cfb0b5a4c2f7b8e39a1d2c3e4 (2026-12-02T18:30:00Z), go1.26.8 linux/amd64
//
// A missing version or revision is said in words, and uncommitted changes
// are flagged.
func (info Info) String() string {
	var b strings.Builder
	b.WriteString(Module)
	b.WriteByte(' ')
	if info.Version != "" {
		b.WriteString(info.Version)
	} else {
		b.WriteString("(unknown version)")
	}
	b.WriteString(", ")
	switch {
	case info.Revision == "":
		b.WriteString("no VCS revision stamped (go run, go test, -buildvcs=false, or not built in a git clone)")
	default:
		fmt.Fprintf(&b, "revision %s", info.Revision)
		if info.Time != "" {
			fmt.Fprintf(&b, " (%s)", info.Time)
		}
		if info.Modified {
			b.WriteString(" with uncommitted changes")
		}
	}
	fmt.Fprintf(&b, ", %s %s", info.GoVersion, info.Platform)
	return b.String()
}

// Line is what a command prints for --version: its name and [Current].
func Line(command string) string {
	return command + " " + Current().String()
}
