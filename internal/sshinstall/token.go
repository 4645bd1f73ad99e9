package sshinstall

import (
	"context"
	"fmt"
	"strings"
)

// K3sServerTokenPath is where a K3s server keeps the cluster token once it
// has started (K3s docs, "Token": "the server token ... at
// /var/lib/rancher/k3s/server/token"); its presence means K3s has run on
// the node as a server.
const K3sServerTokenPath = "/var/lib/rancher/k3s/server/token"

// Markers the remote shell prints, so a sudo or shell failure (any other
// output or exit) is never read as "the file is absent".
const (
	tokenAbsentMarker = "migrate-tui:absent"
	k3sPresentMarker  = "migrate-tui:k3s-present"
	k3sAbsentMarker   = "migrate-tui:k3s-absent"
)

// TokenReadError: a token file on a node could not be read, and migrate-tui
// does not know whether it exists. Replacing it could split the cluster, so
// the install stops.
type TokenReadError struct {
	Node, Path, Detail string
}

func (e *TokenReadError) Error() string {
	return fmt.Sprintf("%s: could not read %s (%s); a new token would lock the installed nodes out, so nothing was changed. Check that `sudo -n cat %s` works on %s, then retry", e.Node, e.Path, e.Detail, e.Path, e.Node)
}

// TokenMissingError: K3s already runs on the node but migrate-tui's token
// file is gone; a new token would not match the cluster's.
type TokenMissingError struct {
	Node, Path string
}

func (e *TokenMissingError) Error() string {
	return fmt.Sprintf("%s: K3s already runs here (%s exists) but the join token file %s is missing or empty; migrate-tui will not make a new token for a running cluster. Restore it with `sudo install -m 600 %s %s` on %s, or remove K3s there (/usr/local/bin/k3s-uninstall.sh) and retry",
		e.Node, K3sServerTokenPath, e.Path, K3sServerTokenPath, e.Path, e.Node)
}

// readRemoteToken reads a token file as root. found is false only when the
// shell positively reports the file absent (or empty); any other failure
// is a *TokenReadError.
func readRemoteToken(ctx context.Context, c *Client, path string) (tok string, found bool, err error) {
	q := singleQuote(path)
	script := "if [ -e " + q + " ]; then cat " + q + "; else echo " + tokenAbsentMarker + "; fi"
	r, err := c.Run(ctx, "sh -c "+singleQuote(script), nil, true)
	if err != nil {
		return "", false, err
	}
	if r.Exit != 0 {
		return "", false, &TokenReadError{Node: c.Node, Path: path, Detail: fmt.Sprintf("exit %d: %s", r.Exit, tail(r.Stderr, 2))}
	}
	out := strings.TrimSpace(r.Stdout)
	if out == tokenAbsentMarker || out == "" {
		return "", false, nil
	}
	return out, true, nil
}

// k3sPresent says whether K3s has run as a server on the node.
func k3sPresent(ctx context.Context, c *Client) (bool, error) {
	script := "if [ -e " + K3sServerTokenPath + " ]; then echo " + k3sPresentMarker + "; else echo " + k3sAbsentMarker + "; fi"
	r, err := c.Run(ctx, "sh -c "+singleQuote(script), nil, true)
	if err != nil {
		return false, err
	}
	switch out := strings.TrimSpace(r.Stdout); {
	case r.Exit == 0 && out == k3sPresentMarker:
		return true, nil
	case r.Exit == 0 && out == k3sAbsentMarker:
		return false, nil
	}
	return false, &TokenReadError{Node: c.Node, Path: K3sServerTokenPath, Detail: fmt.Sprintf("exit %d: %s", r.Exit, tail(r.Stderr+r.Stdout, 2))}
}

// existingOrNewToken returns the token already on the first server, or
// newToken() when there is none and K3s has never run there. A read error
// or a running K3s without the file stops the install.
func existingOrNewToken(ctx context.Context, c *Client, path string, newToken func() (string, error)) (string, error) {
	tok, found, err := readRemoteToken(ctx, c, path)
	if err != nil {
		return "", err
	}
	if found {
		return tok, nil
	}
	running, err := k3sPresent(ctx, c)
	if err != nil {
		return "", err
	}
	if running {
		return "", &TokenMissingError{Node: c.Node, Path: path}
	}
	return newToken()
}
