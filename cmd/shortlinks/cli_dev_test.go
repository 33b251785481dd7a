package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db/pgtest"
)

// envWithout is the test's environment less the named variables.
func envWithout(names ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "TEST_") && !slices.Contains(names, k) {
			out = append(out, kv)
		}
	}
	return out
}

// After `make run` (shortlinks dev), the README's CLI lines work in a
// second terminal without DATABASE_URL: dev writes the URL to
// .data/credentials and the commands read it, saying so on stderr.
func TestCLIFindsTheDatabaseOfMakeRun(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	dir := t.TempDir()

	dev := exec.Command(binary, "dev")
	dev.Dir = dir
	dev.Env = append(envWithout("DATABASE_URL"), "DATABASE_URL="+url, "ADDR=127.0.0.1:0", "LOG_LEVEL=info")
	stderr, _ := dev.StderrPipe()
	dev.Stdout = new(bytes.Buffer)
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Process.Kill(); dev.Wait() })
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				close(serving)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-serving:
	case <-time.After(60 * time.Second):
		t.Fatal("dev did not start serving")
	}
	saved, err := os.ReadFile(filepath.Join(dir, ".data", "credentials"))
	if err != nil || !strings.Contains(string(saved), "DATABASE_URL="+url+"\n") {
		t.Fatalf(".data/credentials after make run: %q %v, want the database URL", saved, err)
	}

	for _, args := range [][]string{{"check-duplicates"}, {"migrate", "status"}} {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		cmd.Env = envWithout("DATABASE_URL")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) || err != nil {
			t.Errorf("%v in a second terminal: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errOut.String())
			continue
		}
		if !strings.Contains(errOut.String(), "DATABASE_URL is not set; using the database 'make run' wrote to .data/credentials") {
			t.Errorf("%v does not say where its database came from: %q", args, errOut.String())
		}
	}
	if !strings.Contains(mustRun(t, dir, "check-duplicates"), "ok: 0 duplicate groups") {
		t.Error("check-duplicates did not report on the make run database")
	}
}

func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = envWithout("DATABASE_URL")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out)
}
