package localpg

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the driver for ping and CreateDatabase
)

const (
	defaultTimeout = time.Minute
	portFile       = "localpg.port"
	// maxSocketPath is sizeof(sun_path) minus the NUL on macOS (104), the
	// smaller of the common limits (Linux: 108).
	maxSocketPath = 103
)

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultTimeout)
}

// command prepares one of the server binaries to run as the server user.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	// The server user may be unable to enter our working directory (say
	// /root/src/app), and initdb and pg_ctl fail when getcwd does.
	cmd.Dir = "/"
	cmd.Env = serverEnv()
	// A process group of their own: Ctrl-C at the terminal is for `make`
	// and our process, not for an initdb half way through (leaving a
	// broken cluster) or a pg_ctl stop waiting for a clean shutdown.
	// Cancellation reaches them through ctx instead. (pg_ctl start already
	// puts the postmaster in its own session.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.who.cred}
	// SIGTERM rather than SIGKILL on cancel: initdb then removes what it
	// created, so the next Start does not find a half-initialised dir.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// serverEnv drops PG* variables, which would silently redirect pg_ctl or
// initdb (PGDATA, PGPORT, ...), and forces the C locale so server messages
// are English and stable for the checks in startOnFreePort.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// initdb creates the cluster unless dir already holds one.
func (c *Cluster) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.DataDir, "PG_VERSION")); err == nil {
		return nil
	}
	args := []string{"-D", c.DataDir, "-U", "postgres", "-A", "trust", "--encoding=UTF8", "--locale=C"}
	if c.temp {
		args = append(args, "--no-sync") // nothing to protect in a throwaway cluster
	}
	if err := c.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("initialising PostgreSQL cluster in %s: %w", c.DataDir, err)
	}
	return nil
}

// startOnFreePort starts the server on an unused port. The port is only
// known to be free when we probe it, so another process may grab it before
// the postmaster binds; that case is retried with a new port. The previous
// port is tried first so a developer's psql command keeps working.
func (c *Cluster) startOnFreePort(ctx context.Context) error {
	var err error
	for range 5 {
		if c.Port, err = pickPort(c.savedPort()); err != nil {
			return err
		}
		err = c.startServer(ctx)
		var se *startError
		if err == nil || !errors.As(err, &se) || !se.portInUse() || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// startServer runs pg_ctl start on c.Port and waits until the server
// accepts connections.
func (c *Cluster) startServer(ctx context.Context) error {
	logStart := fileSize(c.LogFile)
	oldPID, _ := postmasterPID(c.DataDir)
	err := c.run(ctx, "pg_ctl", "start", "-D", c.DataDir, "-l", c.LogFile,
		"-w", "-t", timeoutSeconds(ctx), "-o", c.serverOptions())
	if err == nil {
		err = c.ping(ctx)
	}
	if err != nil {
		// A postmaster still coming up when we gave up must not linger.
		if pid, perr := postmasterPID(c.DataDir); perr == nil && pid != oldPID && c.alive(pid) {
			_ = c.stop("immediate")
		}
		return &startError{err: err, logFile: c.LogFile, log: readFrom(c.LogFile, logStart)}
	}
	// Best effort: without it the next Start merely cannot reuse the server.
	_ = os.WriteFile(filepath.Join(c.DataDir, portFile), []byte(strconv.Itoa(c.Port)+"\n"), 0o644)
	return nil
}

// serverOptions are passed on the command line rather than written to
// postgresql.conf, so a cluster never keeps settings from an earlier run.
// pg_ctl hands them to a shell, hence the quoting.
func (c *Cluster) serverOptions() string {
	socketDir := c.DataDir
	if len(socketDir)+len("/.s.PGSQL.65535") > maxSocketPath {
		socketDir = "" // TCP only; a too-long path would stop the server
	}
	opts := []string{
		"-p", strconv.Itoa(c.Port),
		"-c", "listen_addresses=127.0.0.1", // never reachable from the network
		"-c", "unix_socket_directories=" + socketDir, // default dir needs root
		"-c", "max_connections=300", // tests run 200 concurrent goroutines
	}
	if c.temp {
		opts = append(opts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	for i, o := range opts {
		opts[i] = "'" + strings.ReplaceAll(o, "'", `'\''`) + "'"
	}
	return strings.Join(opts, " ")
}

func timeoutSeconds(ctx context.Context) string {
	secs := defaultTimeout.Seconds()
	if dl, ok := ctx.Deadline(); ok {
		secs = math.Max(1, math.Ceil(time.Until(dl).Seconds()))
	}
	return strconv.Itoa(int(secs))
}

func (c *Cluster) savedPort() int {
	b, err := os.ReadFile(filepath.Join(c.DataDir, portFile))
	if err != nil {
		return 0
	}
	port, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return port
}

// pickPort returns preferred if it is free, else a port the kernel considers
// free right now. 5432 is avoided so we never collide with, or get mistaken
// for, a system PostgreSQL.
func pickPort(preferred int) (int, error) {
	if preferred > 0 && preferred != 5432 {
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(preferred)); err == nil {
			l.Close()
			return preferred, nil
		}
	}
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != 5432 {
			return port, nil
		}
	}
}

// ping waits until the server accepts a real connection. pg_ctl -w already
// waits for readiness, so this normally succeeds at once; it matters for a
// reused server that may still be starting up.
func (c *Cluster) ping(ctx context.Context) error {
	db, err := sql.Open("postgres", c.URL("postgres")+"&connect_timeout=5")
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("connecting to PostgreSQL on port %d: %w", c.Port, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runningPort reports the port of a live server in c.DataDir that an
// earlier Start (possibly in another process) left running.
func (c *Cluster) runningPort() (int, bool) {
	pid, err := postmasterPID(c.DataDir)
	if err != nil || !c.alive(pid) {
		return 0, false
	}
	port := c.savedPort()
	return port, port > 0
}

// postmasterPID reads the first line of postmaster.pid, the postmaster's
// lock file, which exists exactly while a server owns the directory (or
// after a crash).
func postmasterPID(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// alive reports whether pid is a live process of the server user. After a
// crash or reboot, postmaster.pid can name a recycled pid; like PostgreSQL,
// treat another user's process as not ours (kill fails with EPERM for a
// non-root caller; root has to ask /proc).
func (c *Cluster) alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	var st syscall.Stat_t
	if syscall.Stat("/proc/"+strconv.Itoa(pid), &st) == nil {
		return st.Uid == c.who.uid
	}
	return true // no /proc (macOS): trust kill
}

// StopServer stops the server (fast shutdown: open sessions are cut off)
// and leaves the cluster on disk, so StartServer can bring it back.
func (c *Cluster) StopServer() error {
	pid, err := postmasterPID(c.DataDir)
	if err != nil || !c.alive(pid) {
		return nil // not running; a stale lock file is handled by pg_ctl start
	}
	if err := c.stop("fast"); err != nil {
		// Fast can still hang behind a stuck checkpoint; immediate cannot.
		return errors.Join(err, c.stop("immediate"))
	}
	return nil
}

func (c *Cluster) stop(mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*defaultTimeout)
	defer cancel()
	return c.run(ctx, "pg_ctl", "stop", "-D", c.DataDir, "-m", mode, "-w", "-t", timeoutSeconds(ctx))
}

// startError carries the part of the server log written during a failed
// start, since pg_ctl itself only says "could not start server".
type startError struct {
	err     error
	logFile string
	log     string
}

func (e *startError) Error() string {
	if e.log == "" {
		return e.err.Error()
	}
	return fmt.Sprintf("%v\nlast lines of %s:\n%s", e.err, e.logFile, e.log)
}

func (e *startError) Unwrap() error { return e.err }

func (e *startError) portInUse() bool {
	return strings.Contains(e.log, "Address already in use")
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the last 20 lines written to path after offset.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.NewSectionReader(f, offset, 1<<20))
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
