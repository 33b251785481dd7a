package handlers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/shortlinks/shortlinks/handlers"
)

// Every first path segment the route table answers, other than the slug
// itself, is reserved, so the store never hands out a slug that a route
// shadows (or that would shadow a route).
func TestEveryTopLevelRouteIsReserved(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	seen := 0
	for _, r := range app.H.NewServer().Routes() {
		first, _, _ := strings.Cut(strings.TrimPrefix(r.Path, "/"), "/")
		if first == "" || strings.HasPrefix(first, ":") || first == "*" {
			continue // the home page and the slug route itself
		}
		seen++
		if !slices.Contains(handlers.ReservedSlugs(), strings.ToLower(first)) {
			t.Errorf("route %s %s: %q is not in handlers.ReservedSlugs", r.Method, r.Path, first)
		}
	}
	if seen == 0 {
		t.Fatal("no routes seen")
	}
}
