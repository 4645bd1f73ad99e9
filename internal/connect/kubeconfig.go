package connect

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"migrate-tui/internal/kubeconfigpath"
	"migrate-tui/internal/tfvars"
)

// KubeconfigPrecedence is where the kubeconfig comes from, in order. The
// repository's kubeconfig_path comes before $KUBECONFIG because it is what
// Terraform's providers use: an ambient $KUBECONFIG (often another
// cluster's) must not make a command look at a cluster Terraform does not
// apply to.
const KubeconfigPrecedence = "--kubeconfig, else kubeconfig_path in terraform.tfvars (what Terraform uses), else $KUBECONFIG, else " + kubeconfigpath.Default

// KubeconfigHelp is the --kubeconfig flag's usage in every command that
// takes it.
const KubeconfigHelp = "kubeconfig of the cluster; taken from " + KubeconfigPrecedence

// Source says which rung of KubeconfigPrecedence gave the kubeconfig.
type Source string

const (
	FromFlag    Source = "--kubeconfig"
	FromTfvars  Source = "kubeconfig_path in terraform.tfvars"
	FromEnv     Source = "$KUBECONFIG"
	FromDefault Source = "kubeconfig_path's default"
	// Named is a kubeconfig named outright rather than resolved: the
	// cluster the cluster stage adopts.
	Named Source = "the path given"
)

// Kubeconfig is a resolved kubeconfig: the file(s) and where they came from.
type Kubeconfig struct {
	// Path is the file to read, "~/" expanded; from $KUBECONFIG it may be a
	// list (kubectl's merge rules apply).
	Path   string
	Source Source
}

func (k Kubeconfig) String() string { return fmt.Sprintf("%s (from %s)", k.Path, k.Source) }

// ResolveKubeconfig applies KubeconfigPrecedence for the repository in
// repoDir. A terraform.tfvars that does not parse, or a kubeconfig_path that
// is not a string, is an error, never a fall-through to the next rung.
func ResolveKubeconfig(flag, repoDir string) (Kubeconfig, error) {
	if flag != "" {
		return Kubeconfig{Path: kubeconfigpath.Expand(flag), Source: FromFlag}, nil
	}
	p, set, err := kubeconfigpath.In(filepath.Join(repoDir, tfvars.FileName))
	if err != nil {
		return Kubeconfig{}, err
	}
	if set {
		return Kubeconfig{Path: kubeconfigpath.Expand(p), Source: FromTfvars}, nil
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return Kubeconfig{Path: env, Source: FromEnv}, nil
	}
	return Kubeconfig{Path: kubeconfigpath.Expand(kubeconfigpath.Default), Source: FromDefault}, nil
}

// NoKubeconfigError: the resolved kubeconfig cannot be read.
type NoKubeconfigError struct {
	Kubeconfig Kubeconfig
	Err        error
}

func (e *NoKubeconfigError) Error() string {
	switch e.Kubeconfig.Source {
	case Named:
		return fmt.Sprintf("kubeconfig %s: %v", e.Kubeconfig.Path, e.Err)
	case FromFlag:
		return fmt.Sprintf("no kubeconfig: %s: %v; check the path given to --kubeconfig", e.Kubeconfig, e.Err)
	}
	return fmt.Sprintf("no kubeconfig: %s: %v; pass --kubeconfig, run the cluster stage (it writes kubeconfig_path), or set KUBECONFIG (looked at: %s)",
		e.Kubeconfig, e.Err, KubeconfigPrecedence)
}
func (e *NoKubeconfigError) Unwrap() error { return e.Err }

// RESTConfig reads the kubeconfig; timeout bounds each request (0: none).
func (k Kubeconfig) RESTConfig(timeout time.Duration) (*rest.Config, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: k.Path}
	if k.Source == FromEnv {
		rules = &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(k.Path)}
		if !anyExists(rules.Precedence) {
			return nil, &NoKubeconfigError{Kubeconfig: k, Err: os.ErrNotExist}
		}
	} else if _, err := os.Stat(k.Path); err != nil {
		return nil, &NoKubeconfigError{Kubeconfig: k, Err: err}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", k, err)
	}
	cfg.Timeout = timeout
	return cfg, nil
}

func anyExists(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// NotTerraformsError: a flow that applies with Terraform found its
// kubeconfig in $KUBECONFIG, which Terraform's providers do not read (they
// read kubeconfig_path, else its default): verifying through it could look
// at another cluster than the one applied to.
type NotTerraformsError struct{ Kubeconfig Kubeconfig }

func (e *NotTerraformsError) Error() string {
	return fmt.Sprintf("terraform.tfvars sets no kubeconfig_path, and %s is not the cluster Terraform applies to (it reads kubeconfig_path, else %s); run the cluster stage (it writes kubeconfig_path) or set it: migrate-tui decide --set kubeconfig_path=PATH",
		e.Kubeconfig, kubeconfigpath.Default)
}

// TerraformKubeconfig is ResolveKubeconfig without a flag for the flows that
// apply with Terraform (the stages): the kubeconfig Terraform uses, or
// *NotTerraformsError when only $KUBECONFIG would name one.
func TerraformKubeconfig(repoDir string) (Kubeconfig, error) {
	k, err := ResolveKubeconfig("", repoDir)
	if err != nil {
		return k, err
	}
	if k.Source == FromEnv {
		return k, &NotTerraformsError{Kubeconfig: k}
	}
	return k, nil
}
