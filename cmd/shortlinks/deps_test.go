package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/shortlinks/shortlinks/"

// The package graph of docs/architecture.md, checked both ways: mayImport
// lists, for each package of ours, the packages of ours it may import
// directly (any other import of ours fails, and so does a package missing
// from the table); never lists what it must not depend on, directly or not.

// pure are the logic packages with no imports of ours.
var pure = []string{"handlers/urlpolicy", "handlers/stats", "handlers/requestlog", "handlers/phone", "handlers/csvimport", "handlers/access"}

// surfaceMay is what the admin and API surfaces may import: web, the
// campaign rules and the pure logic.
var surfaceMay = append([]string{"handlers/web", "handlers/campaign", "db", "views"}, pure...)

var mayImport = map[string][]string{
	"cmd/shortlinks":   append([]string{"db", "db/localpg", "migrations", "handlers", "handlers/web", "handlers/campaign", "handlers/redirects", "handlers/webhooks"}, pure...),
	"cmd/withpg":       {"db/localpg"},
	"cmd/bench":        {"db/localpg"},
	"cmd/soak":         {"db/localpg"},
	"cmd/benchscale":   {"db", "db/localpg", "migrations"},
	"cmd/benchupgrade": {"db", "db/localpg", "migrations"},
	"db":               {},
	"db/localpg":       {},
	"db/pgtest":        {"db/localpg", "migrations"},
	"migrations":       {},
	"static":           {},
	"views":            {"static"},
	"handlers": {"db", "views", "static", "handlers/web", "handlers/admin", "handlers/api", "handlers/shlink",
		"handlers/public", "handlers/ops", "handlers/redirects", "handlers/webhooks", "handlers/access"},
	"handlers/web":        append([]string{"db", "views", "static", "handlers/campaign", "handlers/redirects", "handlers/webhooks"}, pure...),
	"handlers/admin":      surfaceMay,
	"handlers/api":        surfaceMay,
	"handlers/shlink":     {"handlers/web", "db", "handlers/urlpolicy"},
	"handlers/public":     {"handlers/web", "handlers/redirects", "db"},
	"handlers/ops":        {"handlers/web", "db"},
	"handlers/redirects":  {"db"},
	"handlers/webhooks":   {"db", "handlers/urlpolicy"},
	"handlers/campaign":   {"db"},
	"handlers/urlpolicy":  {},
	"handlers/stats":      {},
	"handlers/requestlog": {},
	"handlers/phone":      {},
	"handlers/csvimport":  {},
	"handlers/access":     {},
}

var never = map[string][]string{
	"cmd/shortlinks":      {"testing", mod + "db/pgtest"},
	"db":                  {"net/http", "github.com/labstack/echo/v4", "github.com/pressly/goose/v3", mod + "views", mod + "handlers", mod + "migrations"},
	"db/localpg":          {"testing"},
	"migrations":          {mod + "db"},
	"views":               {mod + "db", mod + "handlers"},
	"handlers":            {mod + "migrations", mod + "db/localpg"},
	"handlers/web":        {mod + "handlers/admin", mod + "handlers/api", mod + "handlers/shlink", mod + "handlers/public", mod + "handlers/ops"},
	"handlers/admin":      {mod + "handlers/api", mod + "handlers/shlink", mod + "handlers/public", mod + "handlers/ops", mod + "migrations"},
	"handlers/api":        {mod + "handlers/admin", mod + "handlers/shlink", mod + "handlers/public", mod + "handlers/ops", mod + "migrations"},
	"handlers/shlink":     {mod + "handlers/admin", mod + "handlers/api", mod + "handlers/public", mod + "handlers/ops", mod + "migrations"},
	"handlers/public":     {mod + "handlers/admin", mod + "handlers/api", mod + "handlers/shlink", mod + "handlers/ops", mod + "migrations"},
	"handlers/ops":        {mod + "handlers/admin", mod + "handlers/api", mod + "handlers/shlink", mod + "handlers/public", mod + "migrations"},
	"handlers/redirects":  {"github.com/labstack/echo/v4", mod + "handlers", mod + "views"},
	"handlers/webhooks":   {"github.com/labstack/echo/v4", mod + "handlers", mod + "views"},
	"cmd/benchscale":      {mod + "handlers"},
	"cmd/benchupgrade":    {mod + "handlers"},
	"handlers/campaign":   {"net/http", "github.com/labstack/echo/v4", mod + "handlers", mod + "handlers/web", mod + "views"},
	"handlers/urlpolicy":  {mod},
	"handlers/requestlog": {mod},
	"handlers/stats":      {mod},
	"handlers/phone":      {mod},
	"handlers/csvimport":  {mod},
	"handlers/access":     {mod},
}

// onlyImportedBy: libraries one package of ours wraps, which every other
// package reaches through it.
var onlyImportedBy = map[string]string{
	"github.com/pressly/goose/v3": "migrations", // the others run migrations.Migrator
}

func TestPackageGraph(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[strings.TrimPrefix(f[0], mod)] = f[1:]
	}
	for pkg, banned := range never {
		d, ok := deps[pkg]
		if !ok {
			t.Errorf("package %s not found", pkg)
			continue
		}
		for _, dep := range d {
			for _, b := range banned {
				// A trailing slash bans every package of ours.
				if dep == b || strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b) {
					t.Errorf("%s depends on %s (docs/architecture.md says never)", pkg, dep)
				}
			}
		}
	}
}

// Every direct import of ours is in the package's "may import" row, and
// every package of ours has a row.
func TestPackageMayImport(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		allowed, ok := mayImport[pkg]
		if !ok {
			t.Errorf("package %s is not in the table of docs/architecture.md (mayImport)", pkg)
			continue
		}
		for _, imp := range f[1:] {
			ours, isOurs := strings.CutPrefix(imp, mod)
			if isOurs && !slices.Contains(allowed, ours) {
				t.Errorf("%s imports %s, which its row of docs/architecture.md does not allow", pkg, ours)
			}
			if owner, ok := onlyImportedBy[imp]; ok && pkg != owner {
				t.Errorf("%s imports %s, which only %s may import (docs/architecture.md)", pkg, imp, owner)
			}
		}
	}
}
