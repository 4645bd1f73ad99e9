package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"migrate-tui/internal/stages"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/tfvars"
	"migrate-tui/internal/vaultsetup"
)

// defaultStageRunner wires the real runner: Terraform in the repository,
// enabled_stages in terraform.tfvars, the Nomad guard against the preflight
// baseline and kstatus on the stage's objects through kubeconfig_path.
func defaultStageRunner(ctx context.Context, o *applyOptions) (*stages.Runner, error) {
	bin, err := tfrunner.FindBinary(o.TFBinary)
	if err != nil {
		return nil, err
	}
	tf, err := tfrunner.New(ctx, tfrunner.Options{Dir: o.dir, Binary: bin})
	if err != nil {
		return nil, err
	}
	tfvarsPath := filepath.Join(o.dir, "terraform.tfvars")
	guard, err := nomadGuard(ctx, o.dir)
	if err != nil {
		return nil, err
	}
	verifier, cfg, err := objectsVerifier(tf, tfvarsPath)
	if err != nil {
		return nil, err
	}
	return &stages.Runner{TF: tf, Vars: stages.TfvarsFile{Path: tfvarsPath}, Guard: guard, Checks: verifier,
		Record: stages.StateRecorder{RepoDir: o.dir},
		Post:   map[string]stages.PostApply{"vault": vaultSide(tf, cfg)}}, nil
}

// kubeconfigPath is kubeconfig_path from terraform.tfvars (or its default).
func kubeconfigPath(tfvarsPath string) (string, error) {
	p := "~/.kube/k3s-poc.yaml"
	vals, _, err := tfvars.Read(tfvarsPath)
	if err != nil {
		return "", err
	}
	if v, ok := vals["kubeconfig_path"]; ok && !v.IsNull() {
		p = v.AsString()
	}
	if strings.HasPrefix(p, "~/") {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, p[2:])
	}
	return p, nil
}

func objectsVerifier(tf *tfrunner.Runner, tfvarsPath string) (stages.Verifier, *rest.Config, error) {
	kc, err := kubeconfigPath(tfvarsPath)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the cluster's kubeconfig %s (kubeconfig_path in terraform.tfvars): %w; run the cluster stage first", kc, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return stages.ObjectsVerifier{State: tf, Dynamic: dyn, Mapper: mapper}, cfg, nil
}

// vaultSide is the vault stage's work in Vault itself (VAULT_ADDR and
// VAULT_TOKEN from the environment; the token is never stored): Kubernetes
// auth pointed at the cluster's API address from the kubeconfig, with the
// policies and roles from the Terraform outputs.
func vaultSide(tf *tfrunner.Runner, cfg *rest.Config) stages.PostApply {
	return stages.PostApplyFunc(func(ctx context.Context) ([]string, error) {
		if os.Getenv("VAULT_TOKEN") == "" {
			return nil, fmt.Errorf("VAULT_TOKEN is not set: export a Vault token allowed to manage sys/auth, sys/policies/acl and auth/* (and VAULT_ADDR), then retry the verification")
		}
		vc, err := vaultapi.NewClient(vaultapi.DefaultConfig())
		if err != nil {
			return nil, fmt.Errorf("Vault client for %s: %w", os.Getenv("VAULT_ADDR"), err)
		}
		outs, err := tf.Outputs(ctx)
		if err != nil {
			return nil, err
		}
		conf, err := vaultsetup.ConfigFromOutputs(outs, cfg.Host)
		if err != nil {
			return nil, err
		}
		kube, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		return vaultsetup.Apply(ctx, vaultsetup.FromClient(vc), kube, conf, nil)
	})
}
