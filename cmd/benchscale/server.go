package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	benchToken    = "bench-scale-token"
	benchPassword = "bench-scale-password"
)

// server is the shortlinks binary running on a dataset, with a signed-in
// admin client and an API client.
type server struct {
	cmd    *exec.Cmd
	base   string
	admin  *http.Client
	waited chan error
}

// startServer runs `shortlinks serve` as production would (JSON logs at
// warn so logging costs what it costs in production, every middleware on)
// and signs in to the admin console.
func startServer(ctx context.Context, bin, dbURL, addr string) (*server, error) {
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR="+addr, "API_TOKEN="+benchToken,
		"ADMIN_USER=admin", "ADMIN_PASSWORD="+benchPassword, "LOG_LEVEL=warn", "LOG_FORMAT=json",
		"MIGRATE_ON_START=true", "METRICS_PUBLIC=true")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, waited: make(chan error, 1)}
	go func() { s.waited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Minute) // migrations may build indexes first
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-s.waited:
			return nil, fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("server did not start")
		}
	}
	if err := s.signIn(); err != nil {
		s.stop()
		return nil, fmt.Errorf("signing in: %w", err)
	}
	return s, nil
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (s *server) signIn() error {
	jar, _ := cookiejar.New(nil)
	s.admin = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, body, err := s.get(s.admin, "/admin/login")
	if err != nil {
		return err
	}
	m := csrfInput.FindSubmatch(body)
	if m == nil {
		return errors.New("no CSRF token on the sign-in page")
	}
	resp, err := s.admin.PostForm(s.base+"/admin/login", url.Values{"username": {"admin"}, "password": {benchPassword}, "csrf_token": {string(m[1])}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in answered %d", resp.StatusCode)
	}
	return nil
}

// get fetches path with c (the admin client, or nil for the API with the
// token) and returns the whole body.
func (s *server) get(c *http.Client, path string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if c == nil {
		c = http.DefaultClient
		req.Header.Set("Authorization", "Bearer "+benchToken)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// rssKB is the server's resident memory now and at its peak (VmHWM).
func (s *server) rssKB() (now, peak int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			now = v
		case "VmHWM:":
			peak = v
		}
	}
	return now, peak
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.waited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.waited
	}
}
