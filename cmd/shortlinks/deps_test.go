package main

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/shortlinks/shortlinks/"

// The package graph of docs/architecture.md, checked: for each package, the
// packages it must never depend on, directly or not.
var never = map[string][]string{
	"cmd/shortlinks":      {"testing", mod + "db/pgtest"},
	"db":                  {"net/http", "github.com/labstack/echo/v4", "github.com/pressly/goose/v3", mod + "views", mod + "handlers", mod + "migrations"},
	"db/localpg":          {"testing"},
	"migrations":          {mod + "db"},
	"views":               {mod + "db", mod + "handlers"},
	"handlers":            {mod + "migrations", mod + "db/localpg"},
	"handlers/redirects":  {"github.com/labstack/echo/v4", mod + "handlers", mod + "views"},
	"handlers/webhooks":   {"github.com/labstack/echo/v4", mod + "handlers", mod + "views"},
	"cmd/benchscale":      {mod + "handlers"},
	"cmd/benchupgrade":    {mod + "handlers"},
	"handlers/sms":        {mod},
	"handlers/cost":       {mod},
	"handlers/messages":   {mod},
	"handlers/urlpolicy":  {mod},
	"handlers/requestlog": {mod},
	"handlers/stats":      {mod},
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
