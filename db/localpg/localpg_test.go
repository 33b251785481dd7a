package localpg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func openDB(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// eventually retries f for a few seconds: after a restart, pooled
// connections fail once before database/sql replaces them.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = f(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

func selectOne(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("SELECT 1 returned %d", n)
	}
	return nil
}

// serverPID returns the postmaster's pid and checks it is not running as
// root, which PostgreSQL would refuse anyway, but we want to know why.
func serverPID(t *testing.T, c *Cluster) int {
	t.Helper()
	pid, err := postmasterPID(c.DataDir)
	if err != nil {
		t.Fatalf("reading postmaster.pid: %v", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/"+strconv.Itoa(pid), &st); err == nil && st.Uid == 0 {
		t.Errorf("postmaster %d runs as root", pid)
	}
	return pid
}

// gone reports whether pid has exited. A zombie counts as gone: pg_ctl's
// child is reparented to init, which may reap it a little later.
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

func TestStartTempLifecycle(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, err := StartTemp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() }) // safety net; Stop is idempotent
	t.Logf("data dir %s, port %d", c.DataDir, c.Port)
	serverPID(t, c)

	admin := openDB(t, c.URL("postgres"))
	if err := selectOne(ctx, admin); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call must be a no-op
		if err := c.CreateDatabase(ctx, "app"); err != nil {
			t.Fatal(err)
		}
	}
	app := openDB(t, c.URL("app"))
	if _, err := app.ExecContext(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}

	checkRestart(t, ctx, c, app)
	checkStopStart(t, ctx, c, admin)

	pid := serverPID(t, c)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.DataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("data dir %s still there after Stop: %v", c.DataDir, err)
	}
	// pg_ctl stop returns once the postmaster has removed its pid file,
	// which it does just before it exits; on a loaded machine the exit
	// itself (the libraries' destructors) can take a while longer.
	eventually(t, "the postmaster to exit after Stop", func() error {
		if !gone(pid) {
			return fmt.Errorf("postmaster %d still running", pid)
		}
		return nil
	})
}

// checkRestart checks that Restart keeps the port and the data, and that a
// pool opened before the outage recovers.
func checkRestart(t *testing.T, ctx context.Context, c *Cluster, app *sql.DB) {
	t.Helper()
	port := c.Port
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Port != port {
		t.Errorf("port changed on restart: %d -> %d", port, c.Port)
	}
	eventually(t, "query after restart", func() error {
		var x int
		return app.QueryRowContext(ctx, "SELECT x FROM kept").Scan(&x)
	})
}

// checkStopStart checks StopServer/StartServer, including a start failing
// because the port was taken meanwhile.
func checkStopStart(t *testing.T, ctx context.Context, c *Cluster, admin *sql.DB) {
	t.Helper()
	if err := c.StopServer(); err != nil {
		t.Fatal(err)
	}
	if err := selectOne(ctx, admin); err == nil {
		t.Error("query succeeded while the server was stopped")
	}
	// A port taken while the server was down must fail the start with the
	// reason from the log, which is what startOnFreePort retries on.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.Port))
	if err != nil {
		t.Fatal(err)
	}
	err = c.StartServer(ctx)
	l.Close()
	if se := (*startError)(nil); !errors.As(err, &se) || !se.portInUse() {
		t.Fatalf("StartServer on a taken port: got %v, want a port-in-use startError", err)
	}
	t.Logf("expected failure:\n%v", err)
	if err := c.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "query after StartServer", func() error { return selectOne(ctx, admin) })
}

// TestStartReuse covers the persistent clusters of `make run`: a second
// Start finds the running server, and after Stop a Start keeps the data.
// Under root, t.TempDir (0700, root's) is unreachable for the server user,
// so this also exercises the fallback end to end.
func TestStartReuse(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	requested := filepath.Join(t.TempDir(), "pg")
	c, err := Start(ctx, requested)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		if c.DataDir != requested {
			os.RemoveAll(filepath.Dir(c.DataDir)) // the localpg-<hash> dir
		}
	})
	if os.Geteuid() == 0 && c.DataDir == requested {
		t.Errorf("as root, expected a fallback for %s, got the same dir", requested)
	}
	if err := c.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := openDB(t, c.URL("app")).ExecContext(ctx, "CREATE TABLE kept (x int)"); err != nil {
		t.Fatal(err)
	}

	again, err := Start(ctx, requested)
	if err != nil {
		t.Fatal(err)
	}
	if again.DataDir != c.DataDir || again.Port != c.Port || serverPID(t, again) != serverPID(t, c) {
		t.Errorf("second Start did not reuse the server: %+v vs %+v", again, c)
	}
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}

	third, err := Start(ctx, requested)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Stop()
	if third.Port != c.Port {
		t.Errorf("restarted on port %d, want the previous %d", third.Port, c.Port)
	}
	var n int
	if err := openDB(t, third.URL("app")).QueryRowContext(ctx, "SELECT count(*) FROM kept").Scan(&n); err != nil {
		t.Errorf("data lost across Stop/Start: %v", err)
	}
}

// otherUser returns an account other than the one running the test, as the
// server user would be under root.
func otherUser(t *testing.T) runAs {
	if os.Geteuid() == 0 {
		who, err := serverUser()
		if err != nil {
			t.Skip(err)
		}
		return who
	}
	if os.Geteuid() == 65534 {
		t.Skip("running as nobody; no other uid to test with")
	}
	return runAs{uid: 65534, gid: 65534}
}

func TestDataDirFor(t *testing.T) {
	t.Parallel()
	who := otherUser(t)
	root := t.TempDir()
	// t.TempDir and its parent are 0700; open them up like a normal checkout.
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	private, fallback := filepath.Join(root, "private"), filepath.Join(root, "tmp")
	for dir, mode := range map[string]os.FileMode{private: 0o700, fallback: 0o755} {
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, mode) // in case of a restrictive umask
	}

	tests := []struct {
		name, requested string
		who             runAs
		fellBack        bool
	}{
		{"reachable", filepath.Join(root, "a", "data"), who, false},
		{"under private dir", filepath.Join(private, "data"), who, true},
		{"deep under private dir", filepath.Join(private, "x", "y", "data"), who, true},
		{"same user never falls back", filepath.Join(private, "data"), runAs{uid: uint32(os.Geteuid())}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fellBack, err := dataDirFor(tt.requested, fallback, tt.who)
			if err != nil {
				t.Fatal(err)
			}
			if fellBack != tt.fellBack {
				t.Fatalf("dataDirFor(%s) = %s, fellBack %v, want %v", tt.requested, got, fellBack, tt.fellBack)
			}
			if !fellBack && got != tt.requested {
				t.Errorf("got %s, want %s unchanged", got, tt.requested)
			}
			if fellBack && (filepath.Dir(filepath.Dir(got)) != fallback || !strings.HasPrefix(filepath.Base(filepath.Dir(got)), "localpg-")) {
				t.Errorf("fallback %s is not %s/localpg-<hash>/data", got, fallback)
			}
			if again, _, _ := dataDirFor(tt.requested, fallback, tt.who); again != got {
				t.Errorf("not deterministic: %s then %s", got, again)
			}
		})
	}
	a, _, _ := dataDirFor(filepath.Join(private, "a"), fallback, who)
	b, _, _ := dataDirFor(filepath.Join(private, "b"), fallback, who)
	if a == b {
		t.Errorf("different requested dirs share fallback %s", a)
	}
	if _, _, err := dataDirFor(filepath.Join(private, "data"), private, who); err == nil {
		t.Error("want an error when the fallback root is unreachable too")
	}
}

func TestFindBinDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mkBin := func(dir string, names ...string) string {
		dir = filepath.Join(root, dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	mkBin("lib/9.6/bin", serverBinaries...)
	want := mkBin("lib/16/bin", serverBinaries...)
	mkBin("lib/15/bin", serverBinaries...)
	mkBin("lib/17/bin", "initdb", "postgres") // incomplete: no pg_ctl
	onPath := mkBin("path", serverBinaries...)
	globs := []string{filepath.Join(root, "lib/*/bin")}

	if got, err := findBinDir([]string{"", filepath.Join(root, "nothing")}, globs); err != nil || got != want {
		t.Errorf("from globs: got %q, %v; want %q", got, err, want)
	}
	if got, err := findBinDir([]string{onPath}, globs); err != nil || got != onPath {
		t.Errorf("PATH should win: got %q, %v; want %q", got, err, onPath)
	}
	if _, err := findBinDir(nil, []string{filepath.Join(root, "none/*")}); !errors.Is(err, ErrNoBinaries) {
		t.Errorf("got %v, want ErrNoBinaries", err)
	}
	if strings.Contains(ErrNoBinaries.Error(), "\n") {
		t.Error("ErrNoBinaries must be one line")
	}
}

func TestServerOptions(t *testing.T) {
	t.Parallel()
	c := &Cluster{DataDir: "/tmp/it's here", Port: 5555}
	if got := c.serverOptions(); !strings.Contains(got, `'unix_socket_directories=/tmp/it'\''s here'`) {
		t.Errorf("bad quoting: %s", got)
	}
	c.DataDir = "/" + strings.Repeat("x", 100)
	if got := c.serverOptions(); !strings.Contains(got, "'unix_socket_directories='") {
		t.Errorf("socket dir not disabled for a long path: %s", got)
	}
	if got := c.serverOptions(); strings.Contains(got, "fsync") {
		t.Errorf("persistent cluster must keep fsync: %s", got)
	}
}
