package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shortlinks/shortlinks/db/localpg"
)

// devDir keeps everything `make run` creates: the local cluster and the
// generated credentials. It is gitignored.
const devDir = ".data"

// dev is what `make run` starts: a ready-to-use service on a developer's
// machine with nothing configured.
func dev(ctx context.Context, cfg *config) error {
	log := cfg.logger()
	if cfg.DatabaseURL == "" {
		cluster, err := localpg.Start(ctx, filepath.Join(devDir, "pg"))
		if err != nil {
			return err
		}
		defer cluster.Stop()
		if err := cluster.CreateDatabase(ctx, "shortlinks"); err != nil {
			return err
		}
		cfg.DatabaseURL = cluster.URL("shortlinks")
		log.Info("local PostgreSQL", "data_dir", cluster.DataDir, "port", cluster.Port)
	}
	if err := devCredentials(cfg); err != nil {
		return err
	}
	if err := migrateUp(ctx, cfg, log); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	if n, err := insertDemo(ctx, store); err == nil {
		log.Info("seeded demo data", "businesses", n)
	} else if !errors.Is(err, errNotEmpty) {
		return err
	}
	return runServer(ctx, cfg, store, log, func(addr string) {
		fmt.Printf("\n  shortlinks is running\n  admin:     %s/admin/campaigns\n  user:      %s\n  password:  %s\n  API token: %s\n  database:  %s\n\n",
			"http://"+addr, cfg.AdminUser, cfg.AdminPassword, splitList(cfg.APITokens)[0], cfg.DatabaseURL)
	})
}

// devCredentials fills in the admin password and API token when they are not
// configured: generated once, kept in .data/credentials, reused after. It
// also writes the database URL there, so the CLI commands run in a second
// terminal find the database `make run` started (cliDatabaseURL).
func devCredentials(cfg *config) error {
	path := filepath.Join(devDir, "credentials")
	saved, err := readEnvFile(path)
	if err != nil {
		return err
	}
	for key, p := range map[string]*string{"ADMIN_PASSWORD": &cfg.AdminPassword, "API_TOKEN": &cfg.APITokens} {
		if *p != "" {
			continue
		}
		if saved[key] == "" {
			saved[key] = randomSecret()
		}
		*p = saved[key]
	}
	if err := os.MkdirAll(devDir, 0o755); err != nil {
		return err
	}
	saved["DATABASE_URL"] = cfg.DatabaseURL
	var b strings.Builder
	for _, key := range []string{"ADMIN_PASSWORD", "API_TOKEN", "DATABASE_URL"} {
		if saved[key] != "" {
			fmt.Fprintf(&b, "%s=%s\n", key, saved[key])
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func readEnvFile(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out, sc.Err()
}

func randomSecret() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// cliDatabaseURL is the database URL the last `make run` wrote, for the
// commands run beside it (migrate, check-duplicates, seed-demo) when
// DATABASE_URL is unset: .data/credentials in the working directory, or
// beside the binary's bin/ folder. It returns the file it read, or "".
func cliDatabaseURL() (url, from string) {
	dirs := []string{devDir}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(filepath.Dir(exe)), devDir))
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, "credentials")
		saved, err := readEnvFile(path)
		if err == nil && saved["DATABASE_URL"] != "" {
			return saved["DATABASE_URL"], path
		}
	}
	return "", ""
}
