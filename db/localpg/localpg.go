// Package localpg runs a private PostgreSQL server from the locally
// installed server binaries, so that `make run` and `make test` work on a
// machine that has PostgreSQL installed but no server running or configured.
//
// When the caller is root (sessions, CI), the cluster is owned and run by
// the postgres system user (or nobody), because initdb and postgres refuse to
// run as root. If that user cannot reach the requested directory (e.g. a
// checkout under /root), the cluster lives under os.TempDir() instead; see
// Cluster.DataDir.
package localpg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// Cluster is a PostgreSQL cluster (data directory plus server) managed by
// this package. Connect as user postgres without a password, on 127.0.0.1.
type Cluster struct {
	// DataDir is where the cluster actually lives. It differs from the
	// directory passed to Start when the server user cannot reach that one.
	DataDir string
	// Port is the TCP port the server listens on, on 127.0.0.1 only.
	Port int
	// LogFile receives the server's output; errors quote its last lines.
	LogFile string

	binDir string
	who    runAs
	temp   bool // Stop removes DataDir
}

// Start initialises the cluster in dir if needed and starts it, or reuses the
// server already running there (left by an earlier process), so repeated
// `make run`s keep their data. ctx bounds the whole start; without a
// deadline, a default of one minute applies.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c, err := newCluster()
	if err != nil {
		return nil, err
	}
	dataDir, fellBack, err := dataDirFor(dir, os.TempDir(), c.who)
	if err != nil {
		return nil, err
	}
	if fellBack {
		if err := makeReachable(filepath.Dir(dataDir)); err != nil {
			return nil, err
		}
		if err := checkOwnDir(filepath.Dir(dataDir)); err != nil {
			return nil, err
		}
	}
	if err := prepareDataDir(dataDir, c.who); err != nil {
		return nil, err
	}
	c.setDataDir(dataDir)
	unlock, err := lockDir(ctx, filepath.Dir(dataDir))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if port, ok := c.runningPort(); ok {
		c.Port = port
		if err := c.ping(ctx); err != nil {
			return nil, fmt.Errorf("PostgreSQL in %s is running but not answering on port %d: %w", c.DataDir, port, err)
		}
		return c, nil
	}
	if err := c.initdb(ctx); err != nil {
		return nil, err
	}
	if err := c.startOnFreePort(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// StartTemp starts a throwaway cluster in a fresh temp directory, tuned for
// speed over durability (no fsync), for tests. Stop removes it entirely.
func StartTemp(ctx context.Context) (*Cluster, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c, err := newCluster()
	if err != nil {
		return nil, err
	}
	c.temp = true
	dir, err := makeTempDataDir(c.who)
	if err != nil {
		return nil, err
	}
	c.setDataDir(dir)
	err = c.initdb(ctx)
	if err == nil {
		err = c.startOnFreePort(ctx)
	}
	if err != nil {
		// The error already quotes the log, so the directory can go.
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func newCluster() (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	who, err := serverUser()
	if err != nil {
		return nil, err
	}
	return &Cluster{binDir: bin, who: who}, nil
}

func (c *Cluster) setDataDir(dir string) {
	c.DataDir = dir
	// Inside the data directory because it is the one place the server
	// user is guaranteed to be able to write; the caller (root or the same
	// user) can always read it.
	c.LogFile = filepath.Join(dir, "postgres.log")
}

// URL returns a lib/pq connection URL for database name on this cluster.
func (c *Cluster) URL(name string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     "127.0.0.1:" + strconv.Itoa(c.Port),
		Path:     "/" + name,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates database name unless it already exists, so callers
// can run it on every start.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	err = db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil || exists {
		return err
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	if pq.As(err, pqerror.DuplicateDatabase) != nil {
		return nil // created concurrently by someone else: fine
	}
	if err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	return nil
}

// Stop stops the server and, for a StartTemp cluster, removes its directory.
// It also stops a server that Start merely reused, so nothing outlives the
// process that last started the cluster.
func (c *Cluster) Stop() error {
	err := c.StopServer()
	if c.temp {
		// Remove even if stopping failed: a postmaster whose lock file
		// vanished shuts itself down within a minute.
		err = errors.Join(err, os.RemoveAll(c.DataDir))
	}
	return err
}

// Restart stops the server and starts it again on the same port, so existing
// connection strings stay valid; tests use it to simulate an outage.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.StopServer(); err != nil {
		return err
	}
	return c.StartServer(ctx)
}

// StartServer starts the server of an initialised cluster on c.Port again
// after StopServer, for tests that need the database down for a while.
func (c *Cluster) StartServer(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	return c.startServer(ctx)
}
