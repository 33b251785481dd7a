package localpg

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
)

// ErrNoBinaries is returned when the PostgreSQL server programs cannot be
// found. Its message is a single line meant to be shown to users as is.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL")

// serverBinaries must all live in one directory: initdb locates postgres
// next to itself, so mixing directories would mix versions.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// installGlobs are the places distributions put the server binaries outside
// PATH (Debian/Ubuntu keep them out of PATH on purpose, so this is the common
// case rather than the exception).
var installGlobs = []string{
	"/usr/lib/postgresql/*/bin",         // Debian, Ubuntu
	"/usr/pgsql-*/bin",                  // RHEL/Fedora PGDG packages
	"/usr/local/pgsql/bin",              // source builds
	"/opt/homebrew/opt/postgresql*/bin", // Homebrew on Apple silicon
	"/usr/local/opt/postgresql*/bin",    // Homebrew on Intel
	"/Applications/Postgres.app/Contents/Versions/*/bin",
}

// FindBinDir returns a directory holding initdb, pg_ctl and postgres. PATH
// wins, so users can pick a version explicitly; otherwise the highest
// version among the usual install locations is used.
func FindBinDir() (string, error) {
	return findBinDir(filepath.SplitList(os.Getenv("PATH")), installGlobs)
}

func findBinDir(path, globs []string) (string, error) {
	for _, dir := range path {
		// An empty PATH entry means the current directory; never run
		// server binaries from wherever we happen to be.
		if dir != "" && filepath.IsAbs(dir) && hasServerBinaries(dir) {
			return dir, nil
		}
	}
	var found []string
	for _, g := range globs {
		matches, _ := filepath.Glob(g) // only fails on a malformed pattern
		for _, dir := range matches {
			if hasServerBinaries(dir) {
				found = append(found, dir)
			}
		}
	}
	if len(found) == 0 {
		return "", ErrNoBinaries
	}
	slices.SortStableFunc(found, func(a, b string) int {
		return slices.Compare(versionOf(b), versionOf(a)) // highest first
	})
	return found[0], nil
}

func hasServerBinaries(dir string) bool {
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

var digits = regexp.MustCompile(`[0-9]+`)

// versionOf extracts the version numbers embedded in an install path
// ("/usr/pgsql-9.6/bin" -> [9 6]) so that 16 sorts above 9.6, which a
// string comparison would get wrong.
func versionOf(dir string) []int {
	var v []int
	for _, d := range digits.FindAllString(dir, -1) {
		n, _ := strconv.Atoi(d) // cannot fail beyond overflow, which sorts low
		v = append(v, n)
	}
	return v
}
