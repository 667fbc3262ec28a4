package fetch

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/reehub/reehub/fault"
)

// VCS is a vcs upload: FOSSology's vcsType, vcsUrl, vcsBranch, vcsName,
// vcsUsername and vcsPassword.
type VCS struct {
	Type     string
	URL      string
	Branch   string
	Name     string
	Username string
	Password string
}

// String never shows the password.
func (v VCS) String() string {
	return fmt.Sprintf("%s %s (branch %q)", v.Type, v.URL, v.Branch)
}

// Git clones v (type git) under the policy and writes its working tree,
// without .git, as a tar file at dest: the upload is then unpacked like any
// other. The clone is shallow, single-branch, without submodules, hooks,
// redirects or any protocol but http and https, and is killed when it
// grows over MaxBytes or runs over Timeout. The host is checked and pinned
// to its checked address (curl's resolve option), so git cannot be sent
// elsewhere by DNS. Credentials reach git through a credential helper that
// reads them from its environment; they are in no argument, URL, file or
// message.
func (p Policy) Git(ctx context.Context, v VCS, dest string) (res Result, err error) {
	p = p.withDefaults()
	if t := strings.ToLower(strings.TrimSpace(v.Type)); t != "git" {
		return Result{}, fault.Invalidf("vcsType %q is not supported; use git", v.Type)
	}
	u, err := url.Parse(v.URL)
	if err != nil {
		return Result{}, fault.Invalidf("vcsUrl is not a URL")
	}
	if u.User != nil {
		// Credentials in the URL move to the helper.
		if v.Username == "" {
			v.Username = u.User.Username()
		}
		if pw, ok := u.User.Password(); ok && v.Password == "" {
			v.Password = pw
		}
		u.User = nil
	}
	host, port, err := checkURL(u)
	if err != nil {
		return Result{}, err
	}
	if strings.HasPrefix(v.Branch, "-") || strings.ContainsAny(v.Branch, " \t\n\x00") {
		return Result{}, fault.Invalidf("vcsBranch %q is not a branch name", v.Branch)
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	ip, err := p.resolve(ctx, host, port)
	if err != nil {
		return Result{}, err
	}

	work, err := os.MkdirTemp(filepath.Dir(dest), ".git-clone-")
	if err != nil {
		return Result{}, fmt.Errorf("create clone directory: %w", err)
	}
	defer os.RemoveAll(work)
	home := filepath.Join(work, "home")
	repo := filepath.Join(work, "repo")
	if err := os.Mkdir(home, 0o700); err != nil {
		return Result{}, fmt.Errorf("create clone directory: %w", err)
	}

	args := []string{
		"-c", "protocol.allow=never", "-c", "protocol.https.allow=always", "-c", "protocol.http.allow=always",
		"-c", "http.followRedirects=false",
		"-c", "http.curloptResolve=" + host + ":" + port + ":" + bracket(ip.String()),
		"-c", "core.hooksPath=/dev/null", "-c", "submodule.recurse=false",
		"-c", "credential.helper=", "-c", `credential.helper=!f() { test "$1" = get || exit 0; printf 'username=%s\npassword=%s\n' "$REEHUB_GIT_USERNAME" "$REEHUB_GIT_PASSWORD"; }; f`,
		"clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags",
	}
	if v.Branch != "" {
		args = append(args, "--branch", v.Branch)
	}
	args = append(args, "--", u.String(), repo)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_ASKPASS=/bin/false", "SSH_ASKPASS=/bin/false", "LC_ALL=C",
		"REEHUB_GIT_USERNAME=" + v.Username, "REEHUB_GIT_PASSWORD=" + v.Password,
	}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, n: 8 << 10}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("run git: %w", err)
	}
	stop := make(chan struct{})
	overc := make(chan bool, 1)
	go func() { overc <- watchSize(repo, p.MaxBytes, cmd, stop) }()
	werr := cmd.Wait()
	close(stop)
	// A clone faster than the watcher's tick is measured here.
	if over := <-overc; over || werr == nil && dirSize(repo) > p.MaxBytes {
		return Result{}, fault.TooLargef("cloning %s grew over the upload limit of %d bytes", redact(u), p.MaxBytes)
	}
	if ctx.Err() != nil {
		return Result{}, fault.Invalidf("cloning %s did not finish within %s", redact(u), p.Timeout)
	}
	if werr != nil {
		msg := scrub(stderr.String(), v)
		return Result{}, fault.Invalidf("cloning %s failed: %s", redact(u), msg)
	}

	name := v.Name
	if name == "" {
		name = strings.TrimSuffix(path.Base(u.Path), ".git")
	}
	if name == "" || name == "." || name == "/" {
		name = host
	}
	name = strings.ReplaceAll(name, "/", "_")
	if !strings.HasSuffix(name, ".tar") {
		name += ".tar"
	}
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Result{}, fmt.Errorf("create clone archive: %w", err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write clone archive: %w", cerr)
		}
		if err != nil {
			os.Remove(dest)
		}
	}()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarTree(ctx, repo, pw)) }()
	h, err := copyHashed(out, pr)
	if err != nil {
		return Result{}, fmt.Errorf("archive clone: %w", err)
	}
	return Result{Path: dest, Name: name, Hash: h}, nil
}

// bracket puts an IPv6 address in brackets for curl's resolve option.
func bracket(ip string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]"
	}
	return ip
}

// scrub removes credentials from git's output and keeps its last lines.
func scrub(s string, v VCS) string {
	for _, secret := range []string{v.Password, url.QueryEscape(v.Password), url.PathEscape(v.Password)} {
		if len(secret) >= 1 {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	out := strings.TrimSpace(strings.Join(lines, "; "))
	if out == "" {
		out = "git exited with an error"
	}
	return out
}

// watchSize kills cmd once dir holds more than limit bytes, and reports
// whether it did, once stop is closed or it killed.
func watchSize(dir string, limit int64, cmd *exec.Cmd, stop chan struct{}) bool {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return false
		case <-t.C:
		}
		if dirSize(dir) > limit {
			_ = cmd.Process.Kill()
			return true
		}
	}
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

// tarTree writes the files of a cloned tree, without .git, as a tar with
// sorted names and fixed times.
func tarTree(ctx context.Context, root string, w io.Writer) error {
	tw := tar.NewWriter(w)
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if p != root {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(paths)
	epoch := time.Unix(0, 0).UTC()
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: epoch, Mode: 0o644, Format: tar.FormatPAX}
		switch {
		case fi.IsDir():
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			h.Typeflag, h.Linkname = tar.TypeSymlink, target
		case fi.Mode().IsRegular():
			h.Typeflag, h.Size = tar.TypeReg, fi.Size()
			if fi.Mode()&0o111 != 0 {
				h.Mode = 0o755
			}
		default:
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// limitedBuffer keeps the first n bytes written.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// TarDir writes the regular files and directories below root as a tar
// stream to w (a server upload of a directory), .git left out; symlinks are
// recorded as symlinks.
func TarDir(ctx context.Context, root string, w io.Writer) error { return tarTree(ctx, root, w) }
