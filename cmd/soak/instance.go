package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// soakToken is the API token both instances accept.
const soakToken = "soak-token"

// instance is one running `shortlinks serve` process.
type instance struct {
	cmd                       *exec.Cmd
	base                      string
	rssStart, rssEnd, rssPeak int64 // kB
	exited                    chan error
}

// startInstance launches the binary on a free port and waits until it
// serves; env adds settings.
func startInstance(bin, dbURL string, n int, env ...string) (*instance, error) {
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR=127.0.0.1:0", "API_TOKEN="+soakToken,
		"LOG_LEVEL=info", "LOG_FORMAT=json", "ADMIN_PASSWORD=soak")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start instance %d: %w", n, err)
	}
	inst := &instance{cmd: cmd, exited: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct{ Msg, Addr, Level string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			} else if line.Level == "ERROR" {
				fmt.Fprintf(os.Stderr, "instance %d: %s\n", n, sc.Text())
			}
		}
	}()
	go func() { inst.exited <- cmd.Wait() }()
	select {
	case a := <-addr:
		inst.base = "http://" + a
		return inst, nil
	case err := <-inst.exited:
		return nil, fmt.Errorf("instance %d exited at start: %v", n, err)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("instance %d did not start in 60 s", n)
	}
}

// stop sends SIGTERM and waits for a clean exit (which flushes clicks).
func (i *instance) stop() error {
	i.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-i.exited:
		if err != nil {
			return fmt.Errorf("instance %s exited with %v after SIGTERM", i.base, err)
		}
		return nil
	case <-time.After(60 * time.Second):
		i.cmd.Process.Kill()
		return fmt.Errorf("instance %s did not exit 60 s after SIGTERM", i.base)
	}
}

func (i *instance) kill() {
	if i.cmd.ProcessState == nil {
		i.cmd.Process.Kill()
	}
}

func (i *instance) rss() int64  { return i.status("VmRSS:") }
func (i *instance) peak() int64 { return i.status("VmHWM:") }

// status reads a kB figure from /proc/PID/status.
func (i *instance) status(field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", i.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, field) {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return -1
}
