package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The binary must not link test support: db/pgtest imports "testing", and
// an import of it from production code would drag testing's flags along.
func TestBinaryDoesNotLinkTesting(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{"testing", "github.com/shortlinks/shortlinks/db/pgtest", "testing/iotest"} {
		if slices.Contains(deps, banned) {
			t.Errorf("cmd/shortlinks depends on %s", banned)
		}
	}
}
