package litestream_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/testworld"
)

// containerRoot is a directory a container's command runs in as its root
// (unshare --mount + chroot), so the command, its paths and its environment
// are exactly the ones the manifest or the job gives: the host's /usr (and
// the merged-/usr links) stand in for the image's base, and the Litestream
// binary for the image's tag sits in /litestream/bin, first in PATH, as the
// image's /usr/local/bin/litestream is. Volumes are directories under it at
// their mount paths.
type containerRoot struct {
	dir  string
	path string // PATH inside
	bind []string
}

const imagePath = "/litestream/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func newContainerRoot(t *testing.T, name, litestreamTag string) *containerRoot {
	t.Helper()
	r := &containerRoot{dir: filepath.Join(t.TempDir(), name), path: imagePath}
	must(t, os.MkdirAll(filepath.Join(r.dir, "litestream/bin"), 0o755))
	must(t, os.MkdirAll(filepath.Join(r.dir, "tmp"), 0o1777))
	for _, d := range []string{"usr", "bin", "sbin", "lib", "lib64"} {
		host := "/" + d
		fi, err := os.Lstat(host)
		if err != nil {
			continue
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(host)
			must(t, err)
			must(t, os.Symlink(target, filepath.Join(r.dir, d)))
			continue
		}
		must(t, os.MkdirAll(filepath.Join(r.dir, d), 0o755))
		r.bind = append(r.bind, d)
	}
	bin, err := testworld.LitestreamBin(litestreamTag)
	must(t, err)
	copyFile(t, bin, filepath.Join(r.dir, "litestream/bin/litestream"), 0o755)
	return r
}

// at is the host path of a path inside the container.
func (r *containerRoot) at(p string) string { return filepath.Join(r.dir, p) }

// command runs argv inside the root with exactly env (plus PATH when env
// sets none, as an image's config would).
func (r *containerRoot) command(ctx context.Context, env []string, argv ...string) *exec.Cmd {
	var mounts []string
	for _, d := range r.bind {
		mounts = append(mounts, `mount --bind -o ro /`+d+` "$0/`+d+`"`)
	}
	mounts = append(mounts, `exec chroot "$0" "$@"`)
	script := strings.Join(mounts, " && ")
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-ec", script, r.dir}, argv...)...)
	hasPath := false
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			hasPath = true
		}
	}
	if !hasPath {
		env = append(env, "PATH="+r.path)
	}
	cmd.Env = env
	return cmd
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	must(t, err)
	_, err = io.Copy(out, in)
	must(t, err)
	must(t, out.Close())
}
