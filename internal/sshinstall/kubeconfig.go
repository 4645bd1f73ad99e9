package sshinstall

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"migrate-tui/internal/atomicfile"
)

// KubeconfigTargetError: kubeconfig_path names a file migrate-tui must not
// replace. The install refuses before touching a node, and again before
// the write (the file may have appeared meanwhile).
type KubeconfigTargetError struct {
	Path   string
	Reason string
}

func (e *KubeconfigTargetError) Error() string {
	return fmt.Sprintf("kubeconfig_path %s %s. migrate-tui writes the cluster's kubeconfig to a file of its own and never overwrites another: set kubeconfig_path (migrate-tui decide --set kubeconfig_path=~/.kube/k3s-poc.yaml) to a new file, and add it to KUBECONFIG to use both", e.Path, e.Reason)
}

// firstServerURL is the API address the written kubeconfig points at.
func firstServerURL(address string) string {
	return "https://" + net.JoinHostPort(hostOnly(address), "6443")
}

// checkKubeconfigTarget says whether path may receive the kubeconfig of the
// cluster at server: it does not exist yet, or it is a regular file holding
// only this cluster (a rerun refreshes it). A symlink, another kind of
// file, an unparsable file or one with other clusters' entries is refused.
// Terraform's kubernetes provider and the stages use the file's
// current-context, so merging into an operator's kubeconfig would either
// switch their current context or point migrate-tui at the wrong cluster;
// refusing is the safe choice.
func checkKubeconfigTarget(path, server string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &KubeconfigTargetError{Path: path, Reason: fmt.Sprintf("cannot be inspected (%v)", err)}
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return &KubeconfigTargetError{Path: path, Reason: fmt.Sprintf("is a symbolic link (to %s)", target)}
	}
	if !st.Mode().IsRegular() {
		return &KubeconfigTargetError{Path: path, Reason: "is not a regular file"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &KubeconfigTargetError{Path: path, Reason: fmt.Sprintf("cannot be read (%v)", err)}
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil // an empty file holds nothing to lose
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return &KubeconfigTargetError{Path: path, Reason: fmt.Sprintf("exists and is not a kubeconfig (%v)", err)}
	}
	var foreign []string
	for name, c := range cfg.Clusters {
		if c.Server != server {
			foreign = append(foreign, fmt.Sprintf("cluster %s at %s", name, c.Server))
		}
	}
	for name, c := range cfg.Contexts {
		if _, ok := cfg.Clusters[c.Cluster]; !ok || cfg.Clusters[c.Cluster].Server != server {
			foreign = append(foreign, "context "+name)
		}
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		return &KubeconfigTargetError{Path: path, Reason: "already holds another cluster's entries (" + strings.Join(foreign, ", ") + ")"}
	}
	return nil
}

// writeKubeconfig writes cfg to path atomically at mode 0600 (never
// keeping an older file's mode), after checkKubeconfigTarget.
func writeKubeconfig(path string, cfg *clientcmdapi.Config, server string) error {
	if err := checkKubeconfigTarget(path, server); err != nil {
		return err
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the kubeconfig's directory: %w", err)
	}
	if err := atomicfile.WriteFile(path, out, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig to %s: %w", path, err)
	}
	return nil
}
