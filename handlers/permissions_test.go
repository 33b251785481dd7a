package handlers_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/access"
)

// Every route the router answers has a permission rule, derived from the
// router itself: a new route without a rule fails here (and is refused at
// run time), so nothing ships unguarded.
func TestEveryRouteHasAPermissionRule(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	seen := 0
	for _, r := range app.H.NewServer().Routes() {
		if r.Method == echo.RouteNotFound {
			continue // a group's catch-all: answers 404
		}
		seen++
		p, ok := handlers.PermissionFor(r.Method, r.Path)
		if !ok {
			t.Errorf("route %s %s has no permission rule in handlers/permissions.go", r.Method, r.Path)
			continue
		}
		if !access.Known(p) {
			t.Errorf("route %s %s: unknown permission %q", r.Method, r.Path, p)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && p == access.Public {
			switch r.Path {
			case "/admin/login", "/admin/logout", "/admin/set-password/:token":
			default:
				t.Errorf("route %s %s changes data and is public", r.Method, r.Path)
			}
		}
	}
	if seen < 40 {
		t.Fatalf("only %d routes seen", seen)
	}
}
