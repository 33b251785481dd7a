package main

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// notServiceSettings are variables the documents name that configure the
// tooling around the service, not the service.
var notServiceSettings = []string{
	"TEST_DATABASE_URL",                               // make test
	"SCALE_LINKS", "SCALE_DUPLICATES", "SCALE_EXPORT", // make bench-scale
	"SOAK_DURATION", // make soak
}

// envName is what a variable name looks like in the documents: upper case
// words joined by underscores.
var envName = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`)

// configuredNames are the variables the service reads: every flag's usage
// ends with its variable, "(NAME)" or "(NAME; not shown)".
func configuredNames(t *testing.T) map[string]bool {
	t.Helper()
	var c config
	fset := flag.NewFlagSet("docs", flag.ContinueOnError)
	c.register(fset)
	usageEnv := regexp.MustCompile(`\(([A-Z][A-Z0-9_]+)(?:; not shown)?\)$`)
	names := map[string]bool{}
	fset.VisitAll(func(f *flag.Flag) {
		if m := usageEnv.FindStringSubmatch(f.Usage); m != nil {
			names[m[1]] = true
		} else {
			t.Errorf("flag -%s does not name its environment variable: %q", f.Name, f.Usage)
		}
	})
	return names
}

// Every environment variable that the README, the OpenAPI document and the
// /api/docs page (the document's text in views/api_docs.templ) tell an
// operator to set exists: a renamed or invented setting fails here, not in
// a user's deployment.
func TestDocumentedSettingsExist(t *testing.T) {
	t.Parallel()
	known := configuredNames(t)
	root := filepath.Join("..", "..")
	docs := []string{filepath.Join(root, "README.md"), filepath.Join(root, "views", "api_docs.templ")}
	// The OpenAPI document, wherever the handlers keep it.
	err := filepath.WalkDir(filepath.Join(root, "handlers"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "openapi.json" {
			docs = append(docs, path)
		}
		return err
	})
	if err != nil || len(docs) < 3 {
		t.Fatalf("looking for openapi.json: %v (found %v)", err, docs)
	}
	for _, doc := range docs {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, name := range envName.FindAllString(string(text), -1) {
			if seen[name] || known[name] || slices.Contains(notServiceSettings, name) {
				continue
			}
			seen[name] = true
			t.Errorf("%s names %s, which is not a setting of shortlinks (cmd/shortlinks config)", strings.TrimPrefix(doc, root+"/"), name)
		}
	}
}

// The check itself notices a setting that does not exist.
func TestDocumentedSettingsCheckNoticesAnInventedOne(t *testing.T) {
	t.Parallel()
	known := configuredNames(t)
	if !known["API_TOKEN_RATE_LIMIT"] || !known["DATABASE_URL"] || !known["SMS_TEMPLATE_URGENT"] {
		t.Errorf("configured names miss real settings: %v", known)
	}
	if got := envName.FindAllString("a token over TOKEN_RATE_PER_MINUTE calls", -1); len(got) != 1 || known[got[0]] {
		t.Errorf("the old, wrong name would not be caught: %v", got)
	}
}
