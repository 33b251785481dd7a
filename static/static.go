// Package static embeds the CSS, JavaScript and images the pages use.
// Each file is served under a URL carrying its content hash, so browsers may
// cache it forever and a new release is fetched at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
)

//go:embed css js img
var files embed.FS

// FS is the embedded files, rooted at this folder.
var FS fs.FS = files

// hashes maps a file name (such as "css/app.css") to its content hash,
// computed once at start-up.
var hashes = func() map[string]string {
	m := map[string]string{}
	fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
}()

// URL returns the public URL of an embedded file, with its content hash as a
// version parameter. It panics on a name that is not embedded, so a typo in
// a template fails the first test that renders it.
func URL(name string) string {
	h, ok := hashes[name]
	if !ok {
		panic("static: no embedded file " + name)
	}
	return path.Join("/static", name) + "?v=" + h
}

// Hash returns the content hash of name, and whether it exists.
func Hash(name string) (string, bool) {
	h, ok := hashes[name]
	return h, ok
}
