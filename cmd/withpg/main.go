// Command withpg runs a command against a throwaway PostgreSQL server, so
// that `make test` works on a machine with only the server binaries
// installed:
//
//	go run ./cmd/withpg -- go test -race ./...
//
// The command gets TEST_DATABASE_URL pointing at the server's postgres
// database; the server and its files are removed when the command exits, and
// withpg exits with the command's status. If TEST_DATABASE_URL is already
// set, the command simply runs against that server instead.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/shortlinks/shortlinks/db/localpg"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run is main with the exit status returned and withpg's own messages
// (not the command's) going to stderr, for tests.
func run(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: withpg -- command [args...]")
		return 2
	}
	// Catch signals first: dying on an early Ctrl-C would leave the server
	// and its directory behind.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	if os.Getenv(localpg.TestDatabaseEnv) != "" {
		return runChild(args, nil, sigs, stderr)
	}
	c, err := startCluster(sigs)
	if err != nil {
		fmt.Fprintf(stderr, "withpg: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "withpg: throwaway PostgreSQL on 127.0.0.1:%d (%s)\n", c.Port, c.DataDir)
	code := runChild(args, []string{localpg.TestDatabaseEnv + "=" + c.URL("postgres")}, sigs, stderr)
	if err := c.Stop(); err != nil {
		fmt.Fprintf(stderr, "withpg: stopping PostgreSQL: %v\n", err)
		if code == 0 {
			code = 1 // a leaked server should not go unnoticed in CI
		}
	}
	return code
}

// startCluster starts the throwaway server, giving up (and cleaning up) if
// a signal arrives meanwhile.
func startCluster(sigs <-chan os.Signal) (*localpg.Cluster, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type result struct {
		c   *localpg.Cluster
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := localpg.StartTemp(ctx)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case sig := <-sigs:
		cancel()
		if r := <-done; r.c != nil {
			err := r.c.Stop() // the signal beat the cancellation
			return nil, errors.Join(fmt.Errorf("%v while starting PostgreSQL", sig), err)
		}
		return nil, fmt.Errorf("%v while starting PostgreSQL", sig)
	}
}

// runChild runs args with stdio inherited and extraEnv added, relaying
// signals, and returns its exit status the way a shell reports it.
func runChild(args, extraEnv []string, sigs <-chan os.Signal, stderr io.Writer) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), extraEnv...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "withpg: %v\n", err)
		return 127
	}
	done := make(chan struct{})
	go forwardSignals(cmd.Process, sigs, done)
	_ = cmd.Wait() // the status is in ProcessState
	close(done)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// forwardSignals relays signals to the child until done is closed. A Ctrl-C
// typed at the terminal already reaches the child, which shares our process
// group (it must, to keep using the terminal), so SIGINT is not relayed then:
// a second SIGINT makes many programs skip their graceful shutdown.
func forwardSignals(p *os.Process, sigs <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case sig := <-sigs:
			if sig == syscall.SIGINT && terminalSentInterrupts() {
				continue
			}
			_ = p.Signal(sig) // fails only if the child just exited
		}
	}
}
