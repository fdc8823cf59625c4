// Package doccheck keeps the project's Markdown honest. Its tests check that
// every relative link in README.md and docs/*.md points at a file that
// exists (and, for a link into a Markdown file with a #fragment, at a
// heading that exists), that every page under docs/ is linked from the
// README, and that the README stays a front page: its two commands first,
// at most maxReadmeLines lines. It also checks the layout every package
// follows (a doc.go; a runnable Example, with "// Output:", in every public
// package) and that no text file of the repository refers to the issue
// tracker by number. It has no API; `go test ./...` runs the checks.
//
// Links are read from inline Markdown links and images ([text](target),
// ![alt](target)) and from HTML src and href attributes, outside fenced
// code blocks and inline code spans. Absolute URLs (with a scheme) are not
// fetched. A fragment is resolved against the target page's headings,
// turned into anchors the way GitHub does: lower case, punctuation other
// than '-' and '_' dropped, spaces turned into '-', and "-1", "-2", ...
// added to repeated anchors.
package doccheck

// maxReadmeLines is the most lines README.md may have: it is a front page,
// and everything else belongs in docs/.
const maxReadmeLines = 220
