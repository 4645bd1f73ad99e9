// Package kubeconfigpath is the one reader of kubeconfig_path in
// terraform.tfvars: the file the cluster stage writes the cluster's
// kubeconfig to and Terraform's providers read (versions.tf). Resolving
// which kubeconfig a command uses is internal/connect's job; this package
// only knows the key, its default and "~/".
package kubeconfigpath

import (
	"os"
	"path/filepath"
	"strings"

	"migrate-tui/internal/tfvars"
)

// Key is the variables.tf key.
const Key = "kubeconfig_path"

// Default is variables.tf's default for Key.
const Default = "~/.kube/k3s-poc.yaml"

// In reads Key from a terraform.tfvars as written ("~/" kept); set is false
// when the file or the key is absent. A file that does not parse, or a
// value that is not a string (*tfvars.TypeError), is an error: a kubeconfig
// silently written to or read from the default would be the wrong cluster's.
func In(tfvarsPath string) (path string, set bool, err error) {
	vals, _, err := tfvars.Read(tfvarsPath)
	if err != nil {
		return "", false, err
	}
	return tfvars.String(vals, Key, tfvarsPath)
}

// OrDefault is In with Default when the key is absent: the value Terraform
// uses.
func OrDefault(tfvarsPath string) (string, error) {
	p, set, err := In(tfvarsPath)
	if err != nil || !set {
		return Default, err
	}
	return p, nil
}

// File is OrDefault with "~/" expanded: the file to open or write.
func File(tfvarsPath string) (string, error) {
	p, err := OrDefault(tfvarsPath)
	return Expand(p), err
}

// Expand expands a leading "~/" (Default has one) to the home directory.
func Expand(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
