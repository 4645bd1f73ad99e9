package traefikroute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"migrate-tui/internal/atomicfile"
	"migrate-tui/internal/sshinstall"
)

// Dir is the external Traefik's watched directory (providers.file.directory),
// on this machine or on the node that runs Traefik.
type Dir interface {
	// Read returns a file's content; an error wrapping os.ErrNotExist when
	// there is none.
	Read(ctx context.Context, name string) ([]byte, error)
	// Write replaces one file atomically (a temp file, then a rename: Traefik
	// never loads half a file).
	Write(ctx context.Context, name string, data []byte) error
	// Remove deletes one file; none there is not an error.
	Remove(ctx context.Context, name string) error
	// String names the directory in messages.
	String() string
}

// LocalDir is a directory on this machine.
type LocalDir struct{ Path string }

func (d LocalDir) String() string { return d.Path }

func (d LocalDir) Read(_ context.Context, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.Path, name))
}

func (d LocalDir) Write(_ context.Context, name string, data []byte) error {
	if st, err := os.Stat(d.Path); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory (%v): set traefik_route_dir to the external Traefik's providers.file.directory", d.Path, err)
	}
	// Traefik in Docker may run as another user; a route holds no secret.
	return atomicfile.WriteFile(filepath.Join(d.Path, name), data, 0o644)
}

func (d LocalDir) Remove(_ context.Context, name string) error {
	err := os.Remove(filepath.Join(d.Path, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Runner runs a command on the node (sshinstall.Client: host keys checked
// against known_hosts, sudo -n when the login is not root).
type Runner interface {
	Run(ctx context.Context, cmd string, stdin io.Reader, root bool) (sshinstall.Result, error)
}

// SSHDir is a directory on the node that runs Traefik, reached over SSH.
type SSHDir struct {
	Node string // for messages: hestia
	SSH  Runner
	Path string
}

func (d SSHDir) String() string { return d.Node + ":" + d.Path }

// exitMissing is what the read script exits with when the file is absent.
const exitMissing = 3

// The scripts take the directory and the file name as arguments ($1, $2),
// never spliced into the script.
const (
	readScript   = `f="$1/$2"; [ -e "$f" ] || exit 3; cat -- "$f"`
	writeScript  = `set -e; [ -d "$1" ] || { echo "$1 is not a directory" >&2; exit 2; }; t=$(mktemp "$1/.$2.tmp-XXXXXX"); trap 'rm -f "$t"' EXIT; cat > "$t"; chmod 644 "$t"; sync "$t" 2>/dev/null || true; mv -f "$t" "$1/$2"; trap - EXIT`
	removeScript = `rm -f -- "$1/$2"`
)

func (d SSHDir) run(ctx context.Context, script, name string, stdin io.Reader) (sshinstall.Result, error) {
	cmd := "sh -c " + quote(script) + " sh " + quote(d.Path) + " " + quote(name)
	return d.SSH.Run(ctx, cmd, stdin, true)
}

func (d SSHDir) Read(ctx context.Context, name string) ([]byte, error) {
	r, err := d.run(ctx, readScript, name, nil)
	if err != nil {
		return nil, err
	}
	switch r.Exit {
	case 0:
		return []byte(r.Stdout), nil
	case exitMissing:
		return nil, fmt.Errorf("%s/%s: %w", d, name, os.ErrNotExist)
	}
	return nil, fmt.Errorf("reading %s/%s failed (exit %d): %s", d, name, r.Exit, strings.TrimSpace(r.Stderr))
}

func (d SSHDir) Write(ctx context.Context, name string, data []byte) error {
	r, err := d.run(ctx, writeScript, name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	if r.Exit != 0 {
		return fmt.Errorf("writing %s/%s failed (exit %d): %s; set traefik_route_dir to the external Traefik's providers.file.directory", d, name, r.Exit, strings.TrimSpace(r.Stderr))
	}
	return nil
}

func (d SSHDir) Remove(ctx context.Context, name string) error {
	r, err := d.run(ctx, removeScript, name, nil)
	if err != nil {
		return err
	}
	if r.Exit != 0 {
		return fmt.Errorf("removing %s/%s failed (exit %d): %s", d, name, r.Exit, strings.TrimSpace(r.Stderr))
	}
	return nil
}

// quote is s as one POSIX shell word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
