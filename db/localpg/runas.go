package localpg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// runAs is the OS account that owns the cluster files and runs the server.
type runAs struct {
	uid, gid uint32
	groups   []uint32
	// cred is nil when the server runs as the current user.
	cred *syscall.Credential
}

// self reports whether no user switch is needed, in which case the kernel
// will tell us about permission problems directly and no guessing is needed.
func (r runAs) self() bool { return int(r.uid) == os.Geteuid() }

// serverUser picks the account to run PostgreSQL as. initdb and postgres
// refuse to run as root (a compromised server must not own the machine), and
// sessions and CI run as root, so root hands the cluster to the postgres
// system user, or to nobody where PostgreSQL was not installed as a package.
func serverUser() (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}, nil
	}
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err == nil {
			return runAsUser(u)
		}
		errs = append(errs, err)
	}
	return runAs{}, fmt.Errorf("running as root and no unprivileged user to run PostgreSQL as: %w", errors.Join(errs...))
}

func runAsUser(u *user.User) (runAs, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return runAs{}, fmt.Errorf("user %s: bad uid %q", u.Username, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return runAs{}, fmt.Errorf("user %s: bad gid %q", u.Username, u.Gid)
	}
	r := runAs{uid: uint32(uid), gid: uint32(gid)}
	// Supplementary groups only widen access, so failing to read them is
	// not fatal; the traversal check below uses the same list, so it
	// stays consistent with what the child process really gets.
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			r.groups = append(r.groups, uint32(n))
		}
	}
	r.cred = &syscall.Credential{Uid: r.uid, Gid: r.gid, Groups: r.groups}
	return r, nil
}

// dataDirFor decides where the cluster requested at dir really lives. The
// server user must be able to traverse every ancestor of its data directory;
// a checkout under root's 0700 home is the usual case where it cannot. Then
// a directory under fallbackRoot is used instead, keyed by a hash of the
// requested path so that every run for that path finds the same cluster.
func dataDirFor(dir, fallbackRoot string, who runAs) (dataDir string, fellBack bool, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, err
	}
	if who.self() {
		return abs, false, nil
	}
	ok, err := traversable(filepath.Dir(abs), who)
	if err != nil || ok {
		return abs, false, err
	}
	if ok, err := traversable(fallbackRoot, who); err != nil || !ok {
		return "", false, fmt.Errorf("neither %s nor %s is reachable by uid %d, which runs PostgreSQL: %v", abs, fallbackRoot, who.uid, err)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(fallbackRoot, "localpg-"+hex.EncodeToString(sum[:8]), "data"), true, nil
}

// traversable reports whether who can reach dir, i.e. has search
// permission on it and on all of its ancestors. Components that do not
// exist yet count as reachable because makeReachable creates them 0755.
func traversable(dir string, who runAs) (bool, error) {
	existing := filepath.Clean(dir)
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return false, fmt.Errorf("no existing ancestor of %s", dir)
		}
		existing = parent
	}
	// Resolve symlinks: what matters is the permission of the real path.
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return false, err
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return false, err
		}
		if !canSearch(fi, who) {
			return false, nil
		}
		if p == filepath.Dir(p) {
			return true, nil
		}
	}
}

// canSearch applies the classic owner/group/other check. ACLs are ignored;
// if they deny access anyway, initdb fails with a clear "permission denied".
func canSearch(fi fs.FileInfo, who runAs) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case who.uid == 0:
		return true
	case st.Uid == who.uid:
		return perm&0o100 != 0
	case st.Gid == who.gid || slices.Contains(who.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// prepareDataDir creates dir for the server user. The ancestors stay owned by
// the caller but are made reachable; the data directory itself must belong
// to the server user with mode 0700, or postgres refuses to start.
func prepareDataDir(dir string, who runAs) error {
	if err := makeReachable(filepath.Dir(dir)); err != nil {
		return err
	}
	err := os.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != who.uid {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) > 0 {
			return fmt.Errorf("%s is owned by uid %d, but PostgreSQL runs as uid %d: remove it or fix its owner", dir, st.Uid, who.uid)
		}
		// An empty directory (e.g. created by hand) is safe to hand over.
		return os.Chown(dir, int(who.uid), int(who.gid))
	}
	return nil
}

// makeReachable is os.MkdirAll with explicit 0755 modes: MkdirAll applies
// the umask, and root's umask is often 077, which would lock the server user
// out of the directories we just created for it.
func makeReachable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := makeReachable(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // a concurrent Start won the race; its modes are ours
		}
		return err
	}
	return os.Chmod(dir, 0o755)
}

// checkOwnDir guards directories in the world-writable temp dir: another
// local user could pre-create our localpg-<hash> directory (or a symlink with
// that name) to capture the cluster, so it must be a real directory we own.
func checkOwnDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || (ok && int(st.Uid) != os.Geteuid()) {
		return fmt.Errorf("%s exists but is not a directory owned by us; remove it", dir)
	}
	return nil
}

// makeTempDataDir creates a fresh, empty data directory for a throwaway
// cluster. MkdirTemp makes it 0700 and owned by us, so it is handed to the
// server user, who could not otherwise enter it.
func makeTempDataDir(who runAs) (string, error) {
	base := tempBase()
	if !who.self() {
		if ok, err := traversable(base, who); err != nil || !ok {
			return "", fmt.Errorf("temp dir %s is not reachable by uid %d, which runs PostgreSQL (set TMPDIR): %v", base, who.uid, err)
		}
	}
	dir, err := os.MkdirTemp(base, "localpg-tmp-")
	if err != nil {
		return "", err
	}
	if err := os.Chown(dir, int(who.uid), int(who.gid)); err != nil {
		os.Remove(dir)
		return "", err
	}
	return dir, nil
}

// tempBase is where throwaway clusters go: $TMPDIR when it is set, else
// /dev/shm when it is a memory file system with room to spare, else the
// system's temp directory. A test run creates and drops hundreds of
// databases of a thousand files each; on a disk file system the kernel's
// file bookkeeping for that churn (ext4's inode allocator looking for
// recently deleted inodes) cost more CPU than the queries: the db
// package's tests took 40 CPU-s of the server on /tmp (ext4) against 13 on
// /dev/shm, measured side by side on a 2-core VM (docs/testing.md).
func tempBase() string {
	if os.Getenv("TMPDIR") != "" {
		return os.TempDir()
	}
	const shm, minFree = "/dev/shm", 4 << 30
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err == nil && st.Type == tmpfsMagic && st.Bavail*uint64(st.Bsize) >= minFree {
		return shm
	}
	return os.TempDir()
}

// tmpfsMagic is TMPFS_MAGIC from linux/magic.h.
const tmpfsMagic = 0x01021994

// lockDir takes an exclusive flock on dir so that two processes starting the
// same cluster (say `make run` and `make test` at once) do not both run
// initdb or pg_ctl start. The lock dies with the process, so a crash cannot
// leave it behind.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another process starting the cluster in %s: %w", dir, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
