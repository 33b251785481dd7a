package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/shortlinks/shortlinks/db/pgtest"
)

// binary is the shortlinks command built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shortlinks-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "shortlinks")
	if out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary against dbURL and returns its output and exit code.
func cli(t *testing.T, dbURL string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func TestCLIMigrationHealsDuplicates(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	// The version before the fix (00012 heals and builds the index now).
	if out, code := cli(t, url, "migrate", "up-to", "3"); code != 0 {
		t.Fatalf("migrate up-to 3: %d %s", code, out)
	}
	conn := sqlx.MustOpen("postgres", url)
	defer conn.Close()
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, created_at) VALUES
		('keep01', 'https://salon.example.com/', now() - interval '1 hour'),
		('drop01', 'https://salon.example.com/', now() - interval '290 milliseconds'),
		('drop02', 'https://salon.example.com/', now())`)

	out, code := cli(t, url, "check-duplicates")
	if code != 1 || !strings.Contains(out, "keep01") || !strings.Contains(out, "https://salon.example.com/") {
		t.Fatalf("check-duplicates before the fix: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "migrate", "up"); code != 0 || !strings.Contains(out, "00012_heal_online.sql") {
		t.Fatalf("migrate up: %d %s", code, out)
	}
	if out, code := cli(t, url, "check-duplicates"); code != 0 {
		t.Fatalf("check-duplicates after the fix: exit %d\n%s", code, out)
	}
	var active []string
	conn.Select(&active, `SELECT slug FROM short_links WHERE is_active`)
	if len(active) != 1 || active[0] != "keep01" {
		t.Errorf("active after healing: %v, want [keep01]", active)
	}
	// Later migrations exist: roll back to the version before the fix.
	if out, code := cli(t, url, "migrate", "down-to", "3"); code != 0 || !strings.Contains(out, "rolled back 00012_heal_online.sql") {
		t.Fatalf("migrate down-to 3: %d %s", code, out)
	}
	if out, code := cli(t, url, "check-duplicates"); code != 0 || !strings.Contains(out, "missing") {
		t.Errorf("check-duplicates without the index: exit %d, want 0 with a warning\n%s", code, out)
	}
	out, code = cli(t, url, "migrate", "status")
	if code != 0 || !strings.Contains(out, "00004_one_active_link.sql") || !strings.Contains(out, "pending") {
		t.Errorf("migrate status: %d %s", code, out)
	}
	if out, code := cli(t, url, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up again: %d %s", code, out)
	}
}

func TestCLICheckDuplicatesCannotConnect(t *testing.T) {
	t.Parallel()
	out, code := cli(t, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "check-duplicates")
	if code != 2 {
		t.Errorf("unreachable database: exit %d, want 2\n%s", code, out)
	}
}

func TestCLISeedDemoOnlyIntoEmptyDatabase(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	cli(t, url, "migrate", "up")
	if out, code := cli(t, url, "seed-demo"); code != 0 || !strings.Contains(out, "seeded 12") {
		t.Fatalf("seed-demo: %d %s", code, out)
	}
	if out, code := cli(t, url, "seed-demo"); code == 0 || !strings.Contains(out, "empty database") {
		t.Errorf("second seed-demo: %d %s, want a refusal", code, out)
	}
}

// serve starts `shortlinks serve` on a free port and returns its base URL.
func serve(t *testing.T, dbURL string, env ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), append([]string{"DATABASE_URL=" + dbURL, "ADDR=127.0.0.1:0", "API_TOKEN=cli-token", "LOG_LEVEL=info"}, env...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a, cmd
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil
}

// The outside check of the foundation: hundreds of concurrent POSTs for one
// destination against the real binary leave one active link.
func TestServeConcurrentCreatesOneLink(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	base, cmd := serve(t, url)
	const callers = 200
	var wg sync.WaitGroup
	slugs := make([]string, callers)
	for i := range callers {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", base+"/api/v1/links", bytes.NewBufferString(`{"destination_url":"https://barber.example.com/"}`))
			req.Header.Set("Authorization", "Bearer cli-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var body struct{ Slug string }
			json.NewDecoder(resp.Body).Decode(&body)
			slugs[i] = body.Slug
		})
	}
	wg.Wait()
	for i := range callers {
		if slugs[i] == "" || slugs[i] != slugs[0] {
			t.Fatalf("caller %d got slug %q, caller 0 %q", i, slugs[i], slugs[0])
		}
	}
	conn := sqlx.MustOpen("postgres", url)
	defer conn.Close()
	var rows int
	conn.Get(&rows, `SELECT COUNT(*) FROM short_links WHERE destination_url = 'https://barber.example.com/'`)
	if rows != 1 {
		t.Errorf("%d rows for the destination, want 1", rows)
	}
	// SIGTERM ends the server cleanly.
	cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-ctx.Done():
		t.Error("serve did not exit after SIGTERM")
	}
}

// Flag help must not print secrets taken from the environment, and an
// environment value that does not parse is an error, not the default.
func TestCLIConfigHygiene(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "serve", "-h")
	cmd.Env = append(os.Environ(), "DATABASE_URL=postgres://u:s3cretpw@db.example/x", "ADMIN_PASSWORD=hunter2hunter2", "API_TOKEN=tok-abc-123")
	out, _ := cmd.CombinedOutput()
	for _, secret := range []string{"s3cretpw", "hunter2hunter2", "tok-abc-123"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("serve -h printed the secret %q", secret)
		}
	}
	if !strings.Contains(string(out), "-database-url") {
		t.Errorf("serve -h did not list the flags:\n%s", out)
	}
	cmd = exec.Command(binary, "check-duplicates")
	cmd.Env = append(os.Environ(), "DATABASE_URL=postgres://postgres@127.0.0.1:1/x", "MIGRATE_ON_START=no", "STATEMENT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "MIGRATE_ON_START") || !strings.Contains(string(out), "STATEMENT_TIMEOUT") {
		t.Errorf("bad environment values: %v\n%s", err, out)
	}
}

// `shortlinks heal` merges duplicates left while the unique index was
// missing, prints its progress and summary, and rebuilds the index; run
// again it has nothing to do.
func TestCLIHealRebuildsTheIndex(t *testing.T) {
	t.Parallel()
	url := pgtest.NewMigratedDatabase(t)
	conn := sqlx.MustOpen("postgres", url)
	defer conn.Close()
	conn.MustExec(`DROP INDEX short_links_one_active_idx`)
	conn.MustExec(`INSERT INTO short_links (slug, destination_url, created_at) VALUES
		('keep02', 'https://barber.example.com/', now() - interval '1 hour'),
		('drop03', 'https://barber.example.com/', now())`)
	out, code := cli(t, url, "heal")
	if code != 0 || !strings.Contains(out, "merging, 1 of 1 duplicate destinations done") ||
		!strings.Contains(out, "healed: run 1, 1 duplicate destinations, 1 links merged") || strings.Contains(out, "drop03") {
		t.Fatalf("heal: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "check-duplicates"); code != 0 || strings.Contains(out, "missing") {
		t.Errorf("check-duplicates after the heal: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "heal"); code != 0 || !strings.Contains(out, "0 duplicate destinations") {
		t.Errorf("heal again: exit %d\n%s", code, out)
	}
}
