package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/reehub/reehub/fault"
)

// toolTail is how many bytes of a failed tool's output an error quotes.
const toolTail = 2048

// run runs cmd, sending its output to log, and returns an error naming the
// command and quoting the end of its output when it fails. A command killed
// because ctx ended returns ctx's error.
func run(ctx context.Context, cmd *exec.Cmd, log io.Writer, started ...chan struct{}) error {
	var tail tailBuffer
	out := io.MultiWriter(log, &tail)
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	cmd.Stderr = out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Start()
	for _, c := range started {
		close(c)
	}
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", filepath.Base(cmd.Path), ctx.Err())
		}
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(cmd.Path), strings.Join(cmd.Args[1:], " "), err, strings.TrimSpace(tail.String()))
	}
	return nil
}

// tailBuffer keeps the last toolTail bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > toolTail {
		t.b = t.b[len(t.b)-toolTail:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// unpack extracts the tar stream rd into dir (which it creates) with GNU
// tar, as root: owners (numeric), modes, times, hard links, device nodes and
// extended attributes (file capabilities) stay as the tar has them. tar
// refuses members that would land outside dir.
func unpack(ctx context.Context, rd io.Reader, dir string, log io.Writer) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("unpack the root file system: %w", err)
	}
	cmd := exec.CommandContext(ctx, "tar", "-x", "-f", "-", "-C", dir,
		"--numeric-owner", "--same-owner", "--same-permissions", "--xattrs", "--xattrs-include=*")
	// The stream is copied by a goroutine of our own rather than through
	// cmd.Stdin, which Wait would wait for even after ctx killed tar, for as
	// long as a read from rd blocks.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("unpack the root file system: %w", err)
	}
	copied := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		<-started
		_, err := io.Copy(stdin, rd)
		stdin.Close()
		copied <- err
	}()
	cmd.Cancel = func() error {
		err := cmd.Process.Kill()
		stdin.Close()
		return err
	}
	runErr := run(ctx, cmd, log, started)
	if runErr == nil {
		return nil
	}
	select {
	case err := <-copied:
		if err != nil && ctx.Err() == nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("unpack the root file system: read the tar stream: %w", err)
		}
	case <-time.After(time.Second):
	}
	return fmt.Errorf("unpack the root file system: %w", runErr)
}

// bootFiles are the kernel and initramfs of a root file system.
type bootFiles struct {
	version string // kernel version, such as 6.1.0-28-amd64
	kernel  string // path in the tree, such as /boot/vmlinuz-6.1.0-28-amd64
	initrd  string // path in the tree, such as /boot/initrd.img-6.1.0-28-amd64
}

// findBoot returns the newest kernel of the tree that has an initramfs.
func findBoot(tree string) (bootFiles, error) {
	kernels, err := filepath.Glob(filepath.Join(tree, "boot", "vmlinuz-*"))
	if err != nil {
		return bootFiles{}, fmt.Errorf("find the kernel: %w", err)
	}
	var versions []string
	for _, k := range kernels {
		v := strings.TrimPrefix(filepath.Base(k), "vmlinuz-")
		if _, err := os.Stat(filepath.Join(tree, "boot", "initrd.img-"+v)); err == nil {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return bootFiles{}, fault.Invalidf("the root file system has no kernel with an initramfs in /boot (install %s)", strings.Join(Packages(OEM)[:2], " and "))
	}
	sort.Slice(versions, func(i, j int) bool { return versionLess(versions[i], versions[j]) })
	v := versions[len(versions)-1]
	return bootFiles{version: v, kernel: "/boot/vmlinuz-" + v, initrd: "/boot/initrd.img-" + v}, nil
}

// versionLess orders kernel versions by their numeric fields.
func versionLess(a, b string) bool {
	fa, fb := versionFields(a), versionFields(b)
	for i := 0; i < len(fa) && i < len(fb); i++ {
		if fa[i] != fb[i] {
			return fa[i] < fb[i]
		}
	}
	if len(fa) != len(fb) {
		return len(fa) < len(fb)
	}
	return a < b
}

func versionFields(v string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// requireGrub checks that the tree has GRUB's modules for platform
// (i386-pc or x86_64-efi) and returns their directory.
func requireGrub(tree, platform, pkg string) (string, error) {
	dir := filepath.Join(tree, "usr", "lib", "grub", platform)
	if _, err := os.Stat(filepath.Join(dir, "normal.mod")); err != nil {
		return "", fault.Invalidf("the root file system has no GRUB modules for %s in /usr/lib/grub/%s (install %s)", platform, platform, pkg)
	}
	return dir, nil
}

// treeUsage is what a tree needs on an ext4 file system.
type treeUsage struct {
	bytes  int64 // data, in 4 KiB blocks
	inodes int64
}

// measure sums the tree's files in 4 KiB blocks, counting each hard-linked
// file once.
func measure(tree string) (treeUsage, error) {
	var u treeUsage
	seen := map[uint64]bool{}
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 && !d.IsDir() {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		u.inodes++
		u.bytes += (info.Size() + 4095) / 4096 * 4096
		if d.IsDir() {
			u.bytes += 4096
		}
		return nil
	})
	if err != nil {
		return treeUsage{}, fmt.Errorf("measure the root file system: %w", err)
	}
	return u, nil
}

// writeFile writes content at the tree path p (such as /etc/fstab) as a
// root-owned file with mode perm, replacing a file or symlink that is there.
func writeFile(tree, p string, content []byte, perm os.FileMode) error {
	full := filepath.Join(tree, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Remove(full); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.WriteFile(full, content, perm); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// copyTree copies the regular files of the directory src into dst (created),
// not recursing: enough for GRUB's module directories.
func copyTree(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
	}
	return nil
}

// grubConfig is the grub.cfg of a disk or ISO: serial and screen terminals,
// one entry.
func grubConfig(search, kernel, initrd string, args []string) []byte {
	var b bytes.Buffer
	b.WriteString("# Written by reehub when it assembled this image.\n")
	b.WriteString("set timeout=1\nset default=0\n")
	b.WriteString("serial --unit=0 --speed=115200\n")
	b.WriteString("terminal_input serial console\nterminal_output serial console\n")
	b.WriteString("insmod part_gpt\ninsmod ext2\ninsmod iso9660\n")
	fmt.Fprintf(&b, "menuentry 'Debian GNU/Linux' {\n\t%s\n\tlinux %s %s\n\tinitrd %s\n}\n", search, kernel, strings.Join(args, " "), initrd)
	return b.Bytes()
}
