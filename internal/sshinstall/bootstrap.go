package sshinstall

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"migrate-tui/internal/k3sconfig"
)

// agentToken returns the agent token already on the first server, or a new
// one when K3s has never run there; like the join token, a token that
// cannot be read, or is missing where K3s runs, stops the install
// (existingOrNewToken). It is written only to the nodes, never logged.
func agentToken(ctx context.Context, c *Client) (string, error) {
	return existingOrNewToken(ctx, c, k3sconfig.AgentTokenFile, func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return hex.EncodeToString(b), nil
	})
}

// uploads are the files one node gets before its install script runs: the
// token files its role needs (an agent never gets the server token), the
// config, the scripts and the auto-deploy manifests (the Cilium HelmChart on
// the first server, so K3s applies it as it starts).
func uploads(f k3sconfig.NodeFiles, tokens map[string]string) []upload {
	out := []upload{{ConfigPath, f.Config, 0o600}}
	for _, p := range f.Tokens() {
		out = append(out, upload{p, []byte(tokens[p] + "\n"), 0o600})
	}
	out = append(out, upload{ScriptPath, f.Install, 0o700}, upload{UninstallPath, f.Uninstall, 0o700})
	for _, m := range f.Manifests {
		out = append(out, upload{m.Path, m.Body, 0o600})
	}
	return out
}

type upload struct {
	path string
	body []byte
	mode uint32
}

// waitAPI waits until the first server's API answers /readyz. It does not
// wait for the node to be Ready: with flannel-backend none (Cilium) no node
// is Ready until the CNI runs, and the joins must not wait for that. The
// API being ready is what a joining server or agent needs (the supervisor
// and apiserver share port 6443; etcd is up when /readyz says ok).
func (o *InstallOptions) waitAPI(ctx context.Context, c *Client) error {
	o.progress(c.Node, "waiting for the Kubernetes API on "+c.Node, false)
	err := o.pollUntil(ctx, func(ctx context.Context) (bool, error) {
		r, err := c.Run(ctx, "k3s kubectl get --raw /readyz", nil, true)
		switch {
		case err != nil:
			return false, err
		case r.Exit == 0 && strings.TrimSpace(r.Stdout) == "ok":
			return true, nil
		}
		return false, errors.New(tail(r.Stderr+r.Stdout, 2))
	}, func(timeout time.Duration, last string) error {
		return fmt.Errorf("waited %s for the Kubernetes API on %s (k3s kubectl get --raw /readyz): %s; look at journalctl -u k3s on %s", timeout, c.Node, last, c.Node)
	})
	if err == nil {
		o.progress(c.Node, "Kubernetes API ready on "+c.Node, true)
	}
	return err
}

// pollUntil runs probe every o.Poll (default 2 s) until it says done or
// o.ReadyTimeout (default 10 min) is over; then fail words the error from
// the timeout and the probe's last answer. A probe the deadline cut short
// keeps the answer before it.
func (o *InstallOptions) pollUntil(ctx context.Context, probe func(context.Context) (bool, error), fail func(timeout time.Duration, last string) error) error {
	timeout, poll := o.ReadyTimeout, o.Poll
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	if poll == 0 {
		poll = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		done, err := probe(ctx)
		switch {
		case done:
			return nil
		case err != nil && ctx.Err() == nil:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fail(timeout, last)
		case <-time.After(poll):
		}
	}
}

// cniHint is added to a Ready timeout when the nodes wait for Cilium.
func cniHint(files []k3sconfig.NodeFiles) string {
	for _, f := range files {
		for _, m := range f.Manifests {
			if m.Path == k3sconfig.CiliumManifestPath {
				return "; the nodes stay NotReady until Cilium runs: on " + f.Node.Name + " see k3s kubectl -n kube-system get helmchart cilium, the helm-install-cilium job's logs and the cilium pods"
			}
		}
	}
	return ""
}
