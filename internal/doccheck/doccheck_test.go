package doccheck

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// root is the repository root, relative to this package's directory.
const root = "../.."

// pages returns README.md and every Markdown file under docs/, as paths
// relative to the repository root.
func pages(t *testing.T) []string {
	t.Helper()
	out := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRelativeLinksResolve checks every relative link of README.md and
// docs/**/*.md: the file or directory must exist inside the repository, and
// a #fragment into a Markdown page must name one of its headings.
func TestRelativeLinksResolve(t *testing.T) {
	anchorCache := map[string]map[string]bool{}
	for _, page := range pages(t) {
		for _, l := range links(read(t, page)) {
			u, err := url.Parse(l.Target)
			if err != nil {
				t.Errorf("%s:%d: link %q: %v", page, l.Line, l.Target, err)
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue // absolute URL: not fetched
			}
			target := page // a bare #fragment points into the page itself
			if u.Path != "" {
				if strings.HasPrefix(u.Path, "/") {
					t.Errorf("%s:%d: link %q is absolute; use a path relative to the page", page, l.Line, l.Target)
					continue
				}
				target = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(page), u.Path)))
				if target == ".." || strings.HasPrefix(target, "../") {
					t.Errorf("%s:%d: link %q leaves the repository", page, l.Line, l.Target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", page, l.Line, l.Target, target)
					continue
				}
			}
			if u.Fragment == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			a, ok := anchorCache[target]
			if !ok {
				a = anchors(read(t, target))
				anchorCache[target] = a
			}
			if !a[u.Fragment] {
				t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", page, l.Line, l.Target, target, u.Fragment)
			}
		}
	}
}

// TestDocsLinkedFromReadme checks that every page under docs/ is linked from
// the README, so that a reader of the front page can find it.
func TestDocsLinkedFromReadme(t *testing.T) {
	var linked []string
	for _, l := range links(read(t, "README.md")) {
		u, err := url.Parse(l.Target)
		if err != nil || u.Scheme != "" || u.Path == "" {
			continue
		}
		linked = append(linked, filepath.ToSlash(filepath.Clean(u.Path)))
	}
	for _, page := range pages(t) {
		if page != "README.md" && !slices.Contains(linked, page) {
			t.Errorf("%s is not linked from README.md; add it to the Documentation table", page)
		}
	}
}

// TestReadmeFrontPage checks that README.md stays a front page: the two
// commands of the project's promise in its first code block, and at most
// maxReadmeLines lines.
func TestReadmeFrontPage(t *testing.T) {
	b := read(t, "README.md")
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) > maxReadmeLines {
		t.Errorf("README.md has %d lines, more than %d: move the details into docs/", len(lines), maxReadmeLines)
	}
	var block []string
	in := false
	for _, l := range lines {
		if strings.HasPrefix(l, "```") {
			if in {
				break
			}
			in = true
			continue
		}
		if in {
			block = append(block, strings.TrimSpace(strings.SplitN(l, "#", 2)[0]))
		}
	}
	if want := []string{"go run ./cmd/train", "go test ./..."}; !slices.Equal(block, want) {
		t.Errorf("README.md's first code block holds the commands %q, want %q", block, want)
	}
}
