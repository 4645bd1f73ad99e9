package sshinstall

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"

	"migrate-tui/internal/k3sconfig"
	"migrate-tui/internal/kubeconfigpath"
)

// Remote paths the install uses (K3s's own, and the rendered script).
const (
	ConfigPath     = "/etc/rancher/k3s/config.yaml"
	ScriptPath     = "/etc/rancher/k3s/migrate-tui-install.sh"
	UninstallPath  = "/etc/rancher/k3s/migrate-tui-uninstall.sh"
	KubeconfigPath = "/etc/rancher/k3s/k3s.yaml"
)

// Step is one progress report of the install.
type Step struct {
	Node string `json:"node"`
	What string `json:"what"`
	Done bool   `json:"done"`
}

// InstallOptions drive Install and Uninstall.
type InstallOptions struct {
	// Files are k3sconfig.Render's output, in install order (the
	// cluster-init server first).
	Files   []k3sconfig.NodeFiles
	Clients map[string]*Client
	// InstallerURL overrides the K3s installer (K3S_INSTALLER_URL).
	InstallerURL string
	// KubeconfigPath is where the fetched kubeconfig is written (kubeconfig_path).
	KubeconfigPath string
	// ReadyTimeout bounds the wait for nodes to turn Ready (default 10 min).
	ReadyTimeout time.Duration
	Poll         time.Duration // default 2 s
	Progress     func(Step)
}

func (o *InstallOptions) progress(node, what string, done bool) {
	if o.Progress != nil {
		o.Progress(Step{Node: node, What: what, Done: done})
	}
}

func (o *InstallOptions) client(name string) (*Client, error) {
	c := o.Clients[name]
	if c == nil {
		return nil, fmt.Errorf("no SSH connection to %s", name)
	}
	return c, nil
}

// Install installs K3s node by node and writes the kubeconfig.
func Install(ctx context.Context, o InstallOptions) error {
	if len(o.Files) == 0 {
		return fmt.Errorf("no nodes to install")
	}
	first := o.Files[0]
	if first.Role != k3sconfig.RoleServerInit {
		return fmt.Errorf("the first node to install must be the cluster-init server, got %s as %s", first.Node.Name, first.Role)
	}
	fc, err := o.client(first.Node.Name)
	if err != nil {
		return err
	}
	// Refuse a kubeconfig_path that must not be overwritten before any
	// node is touched, not after the whole install.
	if err := checkKubeconfigTarget(kubeconfigpath.Expand(o.KubeconfigPath), firstServerURL(first.Node.Address)); err != nil {
		return err
	}
	token, err := joinToken(ctx, fc)
	if err != nil {
		return err
	}
	agent, err := agentToken(ctx, fc)
	if err != nil {
		return err
	}
	tokens := map[string]string{k3sconfig.TokenFile: token, k3sconfig.AgentTokenFile: agent}
	// The first server, then the others in turn. After the first only its
	// API is awaited, not Node Ready (no node is Ready before the CNI runs;
	// with Cilium the HelmChart uploaded with the first server brings it up
	// independently of the joins); at the end every node must be Ready.
	for i, f := range o.Files {
		c, err := o.client(f.Node.Name)
		if err != nil {
			return err
		}
		o.progress(f.Node.Name, "uploading config.yaml, the install script and its manifests", false)
		for _, up := range uploads(f, tokens) {
			if err := c.Upload(ctx, up.path, up.body, os.FileMode(up.mode)); err != nil {
				return err
			}
		}
		o.progress(f.Node.Name, "installing K3s as "+f.Role, false)
		cmd := "sh " + ScriptPath
		if o.InstallerURL != "" {
			cmd = "env K3S_INSTALLER_URL=" + singleQuote(o.InstallerURL) + " " + cmd
		}
		r, err := c.Run(ctx, cmd, nil, true)
		if err != nil {
			return err
		}
		if r.Exit != 0 {
			return fmt.Errorf("%s: the K3s install script failed (exit %d): %s", f.Node.Name, r.Exit, tail(r.Stderr+r.Stdout, 5))
		}
		o.progress(f.Node.Name, "installed as "+f.Role, true)
		if i == 0 {
			if err := o.waitAPI(ctx, fc); err != nil {
				return err
			}
		}
	}
	var names []string
	for _, f := range o.Files {
		names = append(names, f.Node.Name)
	}
	if err := o.waitReady(ctx, fc, names); err != nil {
		return fmt.Errorf("%w%s", err, cniHint(o.Files))
	}
	return o.fetchKubeconfig(ctx, fc, first.Node)
}

// joinToken reuses the token a previous run wrote on the first server, or
// makes a new one. It is written only to the nodes, never logged. A token
// that cannot be read (as opposed to one that does not exist), or a missing
// one on a node where K3s already runs, stops the install: a new token
// would lock the installed nodes out.
func joinToken(ctx context.Context, c *Client) (string, error) {
	return existingOrNewToken(ctx, c, k3sconfig.TokenFile, func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return hex.EncodeToString(b), nil
	})
}

// waitReady polls `k3s kubectl get nodes -o json` on the first server until
// every named node is Ready.
func (o *InstallOptions) waitReady(ctx context.Context, c *Client, names []string) error {
	o.progress(c.Node, "waiting for "+strings.Join(names, ", ")+" to be Ready", false)
	err := o.pollUntil(ctx, func(ctx context.Context) (bool, error) {
		notReady, err := nodesNotReady(ctx, c, names)
		if err == nil && len(notReady) > 0 {
			err = errors.New("not Ready yet: " + strings.Join(notReady, ", "))
		}
		return err == nil, err
	}, func(timeout time.Duration, last string) error {
		return fmt.Errorf("waited %s for %s to be Ready: %s; look at journalctl -u k3s (or k3s-agent) on those nodes", timeout, strings.Join(names, ", "), last)
	})
	if err == nil {
		o.progress(c.Node, strings.Join(names, ", ")+" Ready", true)
	}
	return err
}

func nodesNotReady(ctx context.Context, c *Client, names []string) ([]string, error) {
	r, err := c.Run(ctx, "k3s kubectl get nodes -o json", nil, true)
	if err != nil {
		return nil, err
	}
	if r.Exit != 0 {
		return nil, fmt.Errorf("k3s kubectl get nodes: %s", tail(r.Stderr, 2))
	}
	var list corev1.NodeList
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		return nil, fmt.Errorf("k3s kubectl get nodes: %v", err)
	}
	ready := map[string]bool{}
	for _, n := range list.Items {
		for _, cnd := range n.Status.Conditions {
			if cnd.Type == corev1.NodeReady && cnd.Status == corev1.ConditionTrue {
				ready[n.Name] = true
			}
		}
	}
	var out []string
	for _, n := range names {
		if !ready[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// fetchKubeconfig copies the first server's kubeconfig, points it at the
// server's LAN address instead of 127.0.0.1 and writes it atomically at
// 0600 (writeKubeconfig: never over a symlink or another cluster's file).
func (o *InstallOptions) fetchKubeconfig(ctx context.Context, c *Client, first k3sconfig.Node) error {
	r, err := c.Run(ctx, "cat "+KubeconfigPath, nil, true)
	if err != nil {
		return err
	}
	if r.Exit != 0 {
		return fmt.Errorf("%s: reading %s: %s", first.Name, KubeconfigPath, tail(r.Stderr, 2))
	}
	cfg, err := clientcmd.Load([]byte(r.Stdout))
	if err != nil {
		return fmt.Errorf("%s: %s is not a kubeconfig: %v", first.Name, KubeconfigPath, err)
	}
	for _, cl := range cfg.Clusters {
		u, err := url.Parse(cl.Server)
		if err != nil {
			continue
		}
		port := u.Port()
		if port == "" {
			port = "6443"
		}
		u.Host = net.JoinHostPort(hostOnly(first.Address), port)
		cl.Server = u.String()
	}
	path := kubeconfigpath.Expand(o.KubeconfigPath)
	if err := writeKubeconfig(path, cfg, firstServerURL(first.Address)); err != nil {
		return err
	}
	o.progress(first.Name, "kubeconfig written to "+path, true)
	return nil
}

// Uninstall removes K3s from every node, agents and joined servers first.
func Uninstall(ctx context.Context, o InstallOptions) error {
	for i := len(o.Files) - 1; i >= 0; i-- {
		f := o.Files[i]
		c, err := o.client(f.Node.Name)
		if err != nil {
			return err
		}
		o.progress(f.Node.Name, "uninstalling K3s", false)
		if err := c.Upload(ctx, UninstallPath, f.Uninstall, 0o700); err != nil {
			return err
		}
		r, err := c.Run(ctx, "sh "+UninstallPath+" && rm -f "+UninstallPath+" "+ScriptPath, nil, true)
		if err != nil {
			return err
		}
		if r.Exit != 0 {
			return fmt.Errorf("%s: uninstall failed (exit %d): %s", f.Node.Name, r.Exit, tail(r.Stderr+r.Stdout, 5))
		}
		o.progress(f.Node.Name, "K3s removed", true)
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
