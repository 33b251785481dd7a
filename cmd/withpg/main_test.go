package main

import (
	"database/sql"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// TestHelperProcess is the child command for the tests below, selected by
// WITHPG_HELPER; run normally, it does nothing.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv("WITHPG_HELPER") {
	case "ping":
		db, err := sql.Open("postgres", os.Getenv("TEST_DATABASE_URL"))
		if err == nil {
			err = db.Ping()
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(4)
		}
		os.Exit(3) // distinctive, to prove the exit code is passed on
	case "term":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		os.WriteFile(os.Getenv("WITHPG_READY"), nil, 0o644)
		select {
		case <-sigs:
			os.Exit(7)
		case <-time.After(time.Minute):
			os.Exit(1)
		}
	}
}

func helper(t *testing.T, mode string) []string {
	t.Setenv("WITHPG_HELPER", mode)
	return []string{"--", os.Args[0], "-test.run=^TestHelperProcess$"}
}

func TestRunStartsThrowawayServer(t *testing.T) {
	t.Setenv("TEST_DATABASE_URL", "")
	var stderr strings.Builder
	code := run(helper(t, "ping"), &stderr)
	t.Log(stderr.String())
	if code != 3 {
		t.Fatalf("exit code %d, want the child's 3", code)
	}
	m := regexp.MustCompile(`^withpg: throwaway PostgreSQL on 127\.0\.0\.1:\d+ \((.+)\)\n$`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("unexpected messages: %q", stderr.String())
	}
	if _, err := os.Stat(m[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cluster dir %s left behind (%v)", m[1], err)
	}
}

func TestRunUsesExistingURL(t *testing.T) {
	t.Setenv("TEST_DATABASE_URL", "postgres://example.invalid/x")
	if code := run([]string{"--", "sh", "-c", `test "$TEST_DATABASE_URL" = postgres://example.invalid/x`}, io.Discard); code != 0 {
		t.Errorf("exit code %d: TEST_DATABASE_URL was not passed through unchanged", code)
	}
	if code := run([]string{"sh", "-c", "exit 5"}, io.Discard); code != 5 {
		t.Errorf("exit code %d, want 5", code)
	}
	if code := run([]string{"--", "/nonexistent/command"}, io.Discard); code != 127 {
		t.Errorf("missing command: exit code %d, want 127", code)
	}
	if code := run([]string{"--"}, io.Discard); code != 2 {
		t.Errorf("no command: exit code %d, want 2 (usage)", code)
	}
}

func TestRunForwardsSIGTERM(t *testing.T) {
	t.Setenv("TEST_DATABASE_URL", "postgres://example.invalid/x") // no server needed
	ready := filepath.Join(t.TempDir(), "ready")
	t.Setenv("WITHPG_READY", ready)
	go func() {
		for {
			if _, err := os.Stat(ready); err == nil {
				syscall.Kill(os.Getpid(), syscall.SIGTERM) // caught by run
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if code := run(helper(t, "term"), io.Discard); code != 7 {
		t.Errorf("exit code %d, want 7 from the child's SIGTERM handler", code)
	}
}
