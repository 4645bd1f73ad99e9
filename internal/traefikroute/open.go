package traefikroute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"migrate-tui/internal/sshinstall"
)

// Location is where the external Traefik's watched directory is.
type Location struct {
	// Path is providers.file.directory as the node sees it (for Traefik in
	// Docker: the host side of the mounted directory).
	Path string
	// Node runs Traefik; "" means this machine.
	Node string
	// Address is host[:port] for SSH; default Node.
	Address string
	// Auth logs in (known_hosts checked, as for the K3s install).
	Auth sshinstall.Auth
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// Open returns the directory, connected over SSH when it is on a node; the
// closer ends the connection.
func Open(ctx context.Context, l Location) (Dir, io.Closer, error) {
	if l.Path == "" || !filepath.IsAbs(l.Path) {
		return nil, nil, errors.New("the external Traefik's route directory must be an absolute path (its providers.file.directory)")
	}
	if l.Node == "" {
		return LocalDir{Path: l.Path}, nopCloser{}, nil
	}
	addr := l.Address
	if addr == "" {
		addr = l.Node
	}
	c, err := sshinstall.Dial(ctx, l.Node, addr, l.Auth)
	if err != nil {
		return nil, nil, fmt.Errorf("reaching the external Traefik's route directory on %s: %w", l.Node, err)
	}
	return SSHDir{Node: l.Node, SSH: c, Path: l.Path}, c, nil
}
