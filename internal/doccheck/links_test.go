package doccheck

import (
	"maps"
	"slices"
	"testing"
)

func TestLinks(t *testing.T) {
	md := "See [a](docs/a.md) and ![pic](img/x.png \"title\").\n" +
		"`[not](code.md)` <img src=\"docs/img/y.png\" width=300>\n" +
		"```sh\n[inside](fence.md)\n```\n" +
		"~~~~\n[tilde](fence2.md)\n~~~\n~~~~\n" +
		"[frag](#local) [abs](https://example.com/x)\n"
	var got []string
	for _, l := range links([]byte(md)) {
		got = append(got, l.Target)
	}
	want := []string{"docs/a.md", "img/x.png", "docs/img/y.png", "#local", "https://example.com/x"}
	if !slices.Equal(got, want) {
		t.Errorf("links = %q, want %q", got, want)
	}
	if l := links([]byte(md)); l[2].Line != 2 || l[3].Line != 10 {
		t.Errorf("line numbers %d, %d, want 2, 10", l[2].Line, l[3].Line)
	}
}

func TestAnchors(t *testing.T) {
	md := "# Speed and accuracy: every measured figure\n" +
		"## tbtrain and PyTorch side by side\n" +
		"## `ckptinfo`\n" +
		"```\n# not a heading\n```\n" +
		"## Notes\n## Notes\n"
	got := slices.Sorted(maps.Keys(anchors([]byte(md))))
	want := []string{"ckptinfo", "notes", "notes-1", "speed-and-accuracy-every-measured-figure", "tbtrain-and-pytorch-side-by-side"}
	if !slices.Equal(got, want) {
		t.Errorf("anchors = %q, want %q", got, want)
	}
}
