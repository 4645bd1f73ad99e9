// Package sshinstall installs K3s on the homelab's nodes over SSH: host keys
// checked against known_hosts (no way to turn that off), ssh-agent or key
// files, sudo where the login is not root; a preflight per node (arch,
// memory cgroup, memory left after Nomad, ports, disk, clock); then the
// rendered configuration uploaded and the installer run on the first server,
// the others joined, every node waited for Ready and the kubeconfig fetched.
package sshinstall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Auth says how to log in.
type Auth struct {
	User string
	// KeyFiles are private keys (unencrypted, or held by the agent).
	KeyFiles []string
	// AgentSocket is SSH_AUTH_SOCK; empty means the environment's.
	AgentSocket string
	// KnownHosts files; empty means ~/.ssh/known_hosts.
	KnownHosts []string
	// Timeout for the TCP connection and handshake (default 10 s).
	Timeout time.Duration
}

// HostKeyError stops the install: the node's host key is unknown or changed.
type HostKeyError struct {
	Node, Address string
	Changed       bool
	Fingerprint   string
	KnownHosts    []string
}

func (e *HostKeyError) Error() string {
	if e.Changed {
		return fmt.Sprintf("%s (%s): the host key CHANGED (now %s) from the one in %s. This may be an attack or a reinstalled node; nothing was done. If you know why it changed, check the new fingerprint on the node's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), remove the old line (ssh-keygen -R %s) and connect once with ssh to record the new key",
			e.Node, e.Address, e.Fingerprint, strings.Join(e.KnownHosts, ", "), hostOnly(e.Address))
	}
	return fmt.Sprintf("%s (%s): host key %s is not in %s; nothing was done. Check the fingerprint on the node's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then connect once with ssh %s to record it",
		e.Node, e.Address, e.Fingerprint, strings.Join(e.KnownHosts, ", "), hostOnly(e.Address))
}

func hostOnly(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// Client is an SSH connection to one node.
type Client struct {
	Node string
	Addr string
	user string
	c    *ssh.Client
}

// Dial connects to a node; address is host or host:port.
func Dial(ctx context.Context, node, address string, a Auth) (*Client, error) {
	if _, _, err := net.SplitHostPort(address); err != nil {
		address = net.JoinHostPort(address, "22")
	}
	if a.User == "" {
		a.User = "root"
	}
	if a.Timeout == 0 {
		a.Timeout = 10 * time.Second
	}
	files := a.KnownHosts
	if len(files) == 0 {
		home, _ := os.UserHomeDir()
		files = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s: known_hosts file %s: %v; migrate-tui checks every node's host key and does not connect without it (connect once with ssh %s to create it)", node, f, err, hostOnly(address))
		}
	}
	db, err := knownhosts.NewDB(files...)
	if err != nil {
		return nil, fmt.Errorf("reading known_hosts %s: %w", strings.Join(files, ", "), err)
	}
	var keyErr *HostKeyError
	check := db.HostKeyCallback()
	hostKeyCB := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		if err != nil {
			switch {
			case knownhosts.IsHostKeyChanged(err):
				keyErr = &HostKeyError{Node: node, Address: address, Changed: true, Fingerprint: ssh.FingerprintSHA256(key), KnownHosts: files}
			case knownhosts.IsHostUnknown(err):
				keyErr = &HostKeyError{Node: node, Address: address, Fingerprint: ssh.FingerprintSHA256(key), KnownHosts: files}
			}
		}
		return err
	}
	methods, closeAgent, err := authMethods(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	defer closeAgent()
	cfg := &ssh.ClientConfig{
		User:              a.User,
		Auth:              methods,
		HostKeyCallback:   hostKeyCB,
		HostKeyAlgorithms: db.HostKeyAlgorithms(address),
		Timeout:           a.Timeout,
	}
	d := net.Dialer{Timeout: a.Timeout}
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot reach SSH at %s: %v; check the node's address in terraform.tfvars (nodes) and that sshd runs", node, address, err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, address, cfg)
	if err != nil {
		conn.Close()
		if keyErr != nil {
			return nil, keyErr
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("%s: SSH login as %s at %s refused every key offered (%s): add your public key to ~%s/.ssh/authorized_keys on the node or load the right key into ssh-agent", node, a.User, address, describeAuth(a), a.User)
		}
		return nil, fmt.Errorf("%s: SSH handshake with %s: %w", node, address, err)
	}
	return &Client{Node: node, Addr: address, user: a.User, c: ssh.NewClient(sc, chans, reqs)}, nil
}

func describeAuth(a Auth) string {
	var parts []string
	if len(a.KeyFiles) > 0 {
		parts = append(parts, "key files "+strings.Join(a.KeyFiles, ", "))
	}
	if a.AgentSocket != "" || os.Getenv("SSH_AUTH_SOCK") != "" {
		parts = append(parts, "ssh-agent")
	}
	if len(parts) == 0 {
		return "no keys"
	}
	return strings.Join(parts, " and ")
}

func authMethods(a Auth) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	closeFn := func() {}
	sock := a.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			closeFn = func() { conn.Close() }
			if ss, err := agent.NewClient(conn).Signers(); err == nil {
				signers = append(signers, ss...)
			}
		}
	}
	for _, f := range a.KeyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, closeFn, fmt.Errorf("reading SSH key %s: %w", f, err)
		}
		s, err := ssh.ParsePrivateKey(b)
		var pp *ssh.PassphraseMissingError
		if errors.As(err, &pp) {
			continue // an encrypted key is used through the agent
		}
		if err != nil {
			return nil, closeFn, fmt.Errorf("reading SSH key %s: %w", f, err)
		}
		signers = append(signers, s)
	}
	if len(signers) == 0 {
		return nil, closeFn, errors.New("no SSH key available: start ssh-agent with your key loaded (ssh-add) or give a key file")
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closeFn, nil
}

// Close ends the connection.
func (c *Client) Close() error { return c.c.Close() }

// Result of a remote command.
type Result struct {
	Stdout, Stderr string
	Exit           int
}

// sudo prefixes a command with sudo -n when the login is not root.
func (c *Client) sudo(cmd string) string {
	if c.user == "root" {
		return cmd
	}
	return "sudo -n " + cmd
}

// Run runs cmd (with sudo when root is needed) and returns its output; a
// non-zero exit is a Result, not an error.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader, root bool) (Result, error) {
	s, err := c.c.NewSession()
	if err != nil {
		return Result{}, fmt.Errorf("%s: opening an SSH session: %w", c.Node, err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errb, stdin
	if root {
		cmd = c.sudo(cmd)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case <-ctx.Done():
		s.Signal(ssh.SIGINT)
		s.Close()
		return Result{}, ctx.Err()
	case err = <-done:
	}
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		r.Exit = ee.ExitStatus()
		if root && c.user != "root" && strings.Contains(r.Stderr, "a password is required") {
			return r, fmt.Errorf("%s: sudo needs a password for %s: allow passwordless sudo for the install (or log in as root)", c.Node, c.user)
		}
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("%s: running %q: %w", c.Node, firstWord(cmd), err)
	}
	return r, nil
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return s
	}
	return f[0]
}

// Upload writes content to path on the node as root with mode, creating the
// directory (no SFTP needed: the content goes through stdin).
func (c *Client) Upload(ctx context.Context, path string, content []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	cmd := fmt.Sprintf("sh -c 'umask 077; mkdir -p %s && cat > %s.tmp && chmod %o %s.tmp && mv %s.tmp %s'", shq(dir), shq(path), mode.Perm(), shq(path), shq(path), shq(path))
	r, err := c.Run(ctx, cmd, bytes.NewReader(content), true)
	if err != nil {
		return err
	}
	if r.Exit != 0 {
		return fmt.Errorf("%s: writing %s failed (exit %d): %s", c.Node, path, r.Exit, strings.TrimSpace(r.Stderr))
	}
	return nil
}

// shq quotes s for the inner single-quoted sh -c string: it must not hold a
// single quote (paths we write never do).
func shq(s string) string {
	return `"` + strings.NewReplacer(`"`, `\"`, `$`, `\$`, "`", "\\`").Replace(s) + `"`
}
