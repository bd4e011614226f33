//go:build unix

package config

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/redact"
)

// ssh's rule: a dir or config.json that another user can write is refused
// with the chmod that fixes it; readable is only doctor's warning.
func TestCheckPrivateModes(t *testing.T) {
	for _, tt := range []struct {
		name              string
		dirMode, fileMode fs.FileMode // 0: no such dir / file
		goos              string
		wantPath          string // "dir", "file" or "" for no error
		wantProblem       string
	}{
		{name: "private", dirMode: 0o700, fileMode: 0o600},
		{name: "no dir", goos: "linux"},
		{name: "dir without file", dirMode: 0o700},
		{name: "readable dir and file", dirMode: 0o755, fileMode: 0o644},
		{name: "group-readable", dirMode: 0o750, fileMode: 0o640},
		{name: "read-only file", dirMode: 0o700, fileMode: 0o400},
		{name: "group-writable dir", dirMode: 0o770, fileMode: 0o600, wantPath: "dir", wantProblem: "is writable by other users (mode 0770)"},
		{name: "world-writable dir", dirMode: 0o777, fileMode: 0o600, wantPath: "dir", wantProblem: "is writable by other users (mode 0777)"},
		{name: "world-writable dir, no file", dirMode: 0o757, wantPath: "dir", wantProblem: "is writable by other users (mode 0757)"},
		{name: "sticky world-writable dir", dirMode: 0o777 | fs.ModeSticky, fileMode: 0o600, wantPath: "dir", wantProblem: "is writable by other users (mode 0777)"},
		{name: "group-writable file", dirMode: 0o700, fileMode: 0o620, wantPath: "file", wantProblem: "is writable by other users (mode 0620)"},
		{name: "world-writable file", dirMode: 0o700, fileMode: 0o666, wantPath: "file", wantProblem: "is writable by other users (mode 0666)"},
		{name: "both: the dir is named first", dirMode: 0o777, fileMode: 0o666, wantPath: "dir", wantProblem: "is writable by other users (mode 0777)"},
		{name: "windows checks nothing", dirMode: 0o777, fileMode: 0o666, goos: "windows"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my config")
			if tt.dirMode != 0 {
				mkdirMode(t, dir, tt.dirMode)
			}
			if tt.fileMode != 0 {
				writeMode(t, Path(dir), "{}", tt.fileMode)
			}
			goos := tt.goos
			if goos == "" {
				goos = "linux"
			}
			err := CheckPrivate(dir, goos)
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("CheckPrivate = %v, want nil", err)
				}
				return
			}
			var ue *UnsafeError
			if !errors.As(err, &ue) {
				t.Fatalf("CheckPrivate = %v (%T), want an *UnsafeError", err, err)
			}
			path, fix := dir, "chmod 700 '"+dir+"'"
			if tt.wantPath == "file" {
				path, fix = Path(dir), "chmod 600 '"+Path(dir)+"'"
			}
			want := UnsafeError{Path: path, Problem: tt.wantProblem, Fix: fix}
			if *ue != want {
				t.Errorf("got  %+v\nwant %+v", *ue, want)
			}
			if got := err.Error(); got != path+" "+tt.wantProblem {
				t.Errorf("Error() = %q", got)
			}
		})
	}
}

// Owned by another user: refused with chown (root only can make such files).
func TestCheckPrivateOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	const other = 54321
	for _, which := range []string{"dir", "file"} {
		t.Run(which, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "sesame")
			mkdirMode(t, dir, 0o700)
			writeMode(t, Path(dir), "{}", 0o600)
			path := dir
			if which == "file" {
				path = Path(dir)
			}
			if err := os.Chown(path, other, other); err != nil {
				t.Fatal(err)
			}
			err := CheckPrivate(dir, "linux")
			var ue *UnsafeError
			if !errors.As(err, &ue) || ue.Path != path || ue.Problem != "is owned by another user (uid 54321)" ||
				ue.Fix != "chown "+redact.ShellQuote(currentUser())+" "+path {
				t.Fatalf("CheckPrivate = %#v", err)
			}
			if _, err := Load(dir); !errors.As(err, &ue) {
				t.Errorf("Load = %v, want the *UnsafeError", err)
			}
			// root's own files are trusted, as by ssh
			if err := os.Chown(path, 0, 0); err != nil {
				t.Fatal(err)
			}
			if err := CheckPrivate(dir, "linux"); err != nil {
				t.Errorf("root-owned: %v", err)
			}
		})
	}
}

// A symlinked config.json is judged by its target (as ssh does).
func TestCheckPrivateFollowsSymlink(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "sesame")
	mkdirMode(t, dir, 0o700)
	target := filepath.Join(base, "real.json")
	writeMode(t, target, `{"currentApi":"x"}`, 0o666)
	if err := os.Symlink(target, Path(dir)); err != nil {
		t.Fatal(err)
	}
	var ue *UnsafeError
	if err := CheckPrivate(dir, "linux"); !errors.As(err, &ue) || ue.Path != Path(dir) {
		t.Fatalf("CheckPrivate = %v", err)
	}
	if err := os.Chmod(target, 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(dir); err != nil || cfg.CurrentAPI != "x" {
		t.Fatalf("Load = %+v, %v", cfg, err)
	}
}

// Load, Update, Save and Lock refuse an unsafe dir or file, and write
// nothing.
func TestUnsafeDirIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "sesame")
	if err := Save(dir, &File{CurrentAPI: "mine"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(Path(dir))
	chmod(t, Path(dir), 0o666)
	var ue *UnsafeError
	if _, err := Load(dir); !errors.As(err, &ue) || ue.Fix != "chmod 600 "+Path(dir) {
		t.Errorf("Load with a 0666 file = %v", err)
	}
	if err := Update(ctx, dir, func(f *File) error { f.CurrentAPI = "x"; return nil }); !errors.As(err, &ue) {
		t.Errorf("Update with a 0666 file = %v", err)
	}
	chmod(t, Path(dir), 0o600)
	chmod(t, dir, 0o777)
	if _, err := Load(dir); !errors.As(err, &ue) || ue.Fix != "chmod 700 "+dir {
		t.Errorf("Load with a 0777 dir = %v", err)
	}
	if err := Update(ctx, dir, func(f *File) error { f.CurrentAPI = "x"; return nil }); !errors.As(err, &ue) {
		t.Errorf("Update with a 0777 dir = %v", err)
	}
	if err := Save(dir, &File{CurrentAPI: "x"}); !errors.As(err, &ue) {
		t.Errorf("Save into a 0777 dir = %v", err)
	}
	if _, err := Lock(ctx, dir); !errors.As(err, &ue) {
		t.Errorf("Lock of a 0777 dir = %v", err)
	}
	if after, _ := os.ReadFile(Path(dir)); string(after) != string(before) {
		t.Errorf("config.json changed: %s", after)
	}
	// the fix works
	chmod(t, dir, 0o700)
	if cfg, err := Load(dir); err != nil || cfg.CurrentAPI != "mine" {
		t.Errorf("after chmod 700: %+v, %v", cfg, err)
	}
}

// EnsureDir creates a missing dir 0700, tightens one it created that came
// out more open, and leaves an existing dir alone.
func TestEnsureDirTightensWhatItCreates(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "sesame")
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("created %04o", m)
	}

	orig := mkdirAll
	t.Cleanup(func() { mkdirAll = orig })
	mkdirAll = func(p string, _ fs.FileMode) error { // a file system that ignores the mode
		if err := os.MkdirAll(p, 0o777); err != nil {
			return err
		}
		return os.Chmod(p, 0o777)
	}
	loose := filepath.Join(base, "loose")
	if err := EnsureDir(loose); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, loose); m != 0o700 {
		t.Errorf("created dir left %04o, want 0700", m)
	}
	mkdirAll = orig

	existing := filepath.Join(base, "existing")
	mkdirMode(t, existing, 0o755)
	if err := EnsureDir(existing); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, existing); m != 0o755 {
		t.Errorf("existing dir changed to %04o", m)
	}
}

// A planted symlink as the lock file is refused: nothing is created or
// locked at its target.
func TestLockRefusesSymlink(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "sesame")
	mkdirMode(t, dir, 0o700)
	lock := filepath.Join(dir, FileName+".lock")
	for name, target := range map[string]string{
		"dangling": filepath.Join(base, "victim-new"),
		"existing": filepath.Join(base, "victim-existing"),
	} {
		t.Run(name, func(t *testing.T) {
			if name == "existing" {
				writeMode(t, target, "keep", 0o600)
			}
			if err := os.Symlink(target, lock); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(lock)
			_, err := Lock(context.Background(), dir)
			var ue *UnsafeError
			if !errors.As(err, &ue) || ue.Path != lock || !strings.Contains(ue.Problem, "symbolic link") || ue.Fix != "rm "+lock {
				t.Fatalf("Lock = %v", err)
			}
			if err := Update(context.Background(), dir, func(*File) error { return nil }); !errors.As(err, &ue) {
				t.Errorf("Update = %v", err)
			}
			if name == "dangling" {
				if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the link's target was created: %v", err)
				}
			}
		})
	}
}

// Even past the Lstat (a link swapped in between), the open itself does
// not follow a link.
func TestLockFlagsDoNotFollow(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "victim")
	link := filepath.Join(base, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(link, lockFlags(), 0o600)
	if err == nil {
		f.Close()
		t.Fatal("opened through a symlink")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("target created: %v", err)
	}
}

// A FIFO as config.json or as the lock file fails at once instead of
// hanging.
func TestFIFOsDoNotHang(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	mkdirMode(t, dir, 0o700)
	mkfifo, err := exec.LookPath("mkfifo")
	if err != nil {
		t.Skip("no mkfifo")
	}
	if out, err := exec.Command(mkfifo, "-m", "600", Path(dir), filepath.Join(dir, FileName+".lock")).CombinedOutput(); err != nil {
		t.Skipf("mkfifo: %v %s", err, out)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var pe *ParseError
		if _, err := Load(dir); !errors.As(err, &pe) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load = %v", err)
		}
		var ue *UnsafeError
		if _, err := Lock(context.Background(), dir); !errors.As(err, &ue) || ue.Problem != "is not a regular file" {
			t.Errorf("Lock = %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("hung on a FIFO")
	}
}

func mkdirMode(t *testing.T, dir string, m fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chmod(t, dir, m)
}

func writeMode(t *testing.T, p, data string, m fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	chmod(t, p, m)
}

func chmod(t *testing.T, p string, m fs.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
