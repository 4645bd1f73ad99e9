package stages

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	vaultapi "github.com/hashicorp/vault/api"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/objstore"
	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/tlssecret"
	"migrate-tui/internal/vaultsetup"
)

// ForRepo wires the real runner for a repository: Terraform (tfBinary, or
// the usual lookup) in dir, enabled_stages in terraform.tfvars, the Nomad
// guard against the preflight baseline in the state, kstatus on each stage's
// objects through kubeconfig_path, the vault stage's Vault side and the
// state recorder. `migrate-tui apply` and the wizard share it.
func ForRepo(ctx context.Context, dir, tfBinary string) (*Runner, error) {
	bin, err := tfrunner.FindBinary(tfBinary)
	if err != nil {
		return nil, err
	}
	tf, err := tfrunner.New(ctx, tfrunner.Options{Dir: dir, Binary: bin})
	if err != nil {
		return nil, err
	}
	tfvarsPath := filepath.Join(dir, "terraform.tfvars")
	guard, err := nomadGuard(ctx, dir)
	if err != nil {
		return nil, err
	}
	verifier, cfg, err := objectsVerifier(tf, tfvarsPath)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Runner{TF: tf, Vars: TfvarsFile{Path: tfvarsPath}, Guard: guard, Checks: verifier,
		Record: StateRecorder{RepoDir: dir},
		Pre:    map[string]PreApply{"ingress": IngressTLS(kube, tfvarsPath), "services": servicesCheck(guard, tfvarsPath)},
		Post:   map[string]PostApply{"vault": vaultSide(tf, cfg)}}, nil
}

// IngressTLS refuses the ingress stage while the Secret its default
// TLSStore names is missing: Terraform only refers to it (the key must not
// enter the state) and `migrate-tui tls-secret` creates it.
func IngressTLS(kube kubernetes.Interface, tfvarsPath string) PreApply {
	return PreApplyFunc(func(ctx context.Context) error {
		t, err := tlssecret.TargetFromTfvars(tfvarsPath)
		if err != nil {
			return err
		}
		return tlssecret.Check(ctx, kube, t)
	})
}

func objectsVerifier(tf *tfrunner.Runner, tfvarsPath string) (Verifier, *rest.Config, error) {
	kc, err := sshinstall.KubeconfigFile(tfvarsPath)
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
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	criteria := CriteriaVerifier{Deps: func(ctx context.Context) (*checks.Deps, error) {
		dec, err := checks.LoadDecisions(tfvarsPath)
		if err != nil {
			return nil, err
		}
		return &checks.Deps{Kube: kube, Dynamic: dyn, Decisions: dec}, nil
	}}
	wait, err := VerifyWait()
	if err != nil {
		return nil, nil, err
	}
	return Verifiers{ObjectsVerifier{State: tf, Dynamic: dyn, Mapper: mapper, Wait: wait}, criteria}, cfg, nil
}

// vaultSide is the vault stage's work in Vault itself (VAULT_ADDR and
// VAULT_TOKEN from the environment; the token is never stored): Kubernetes
// auth pointed at the cluster's API address from the kubeconfig, with the
// policies and roles from the Terraform outputs.
func vaultSide(tf *tfrunner.Runner, cfg *rest.Config) PostApply {
	return PostApplyFunc(func(ctx context.Context) ([]string, error) {
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

// nomadGuard compares Nomad with the preflight baseline kept in the state.
// The address is NOMAD_ADDR, else the one preflight used; the token comes
// only from the environment (NOMAD_TOKEN), never from the state.
func nomadGuard(ctx context.Context, dir string) (Guard, error) {
	st, err := state.Load(dir)
	if err != nil {
		return nil, err
	}
	base, err := st.Baseline()
	if err != nil {
		return nil, err
	}
	nc, err := nomadwatch.NewClient(st.NomadAddr(""), "")
	if err != nil {
		return nil, err
	}
	return NomadGuard{Nomad: nc, Baseline: base}, nil
}

// servicesCheck is the services stage's Litestream check (ServicesCheck)
// with the guard's Nomad client and, when VAULT_ADDR and VAULT_TOKEN are
// set, Vault for the copy's own S3 credentials (else LITESTREAM_* in the
// environment).
func servicesCheck(g Guard, tfvarsPath string) PreApply {
	c := ServicesCheck{TfvarsPath: tfvarsPath}
	if ng, ok := g.(NomadGuard); ok {
		if jobs, ok := ng.Nomad.(NomadJobs); ok {
			c.Nomad = jobs
		}
	}
	if os.Getenv("VAULT_ADDR") != "" && os.Getenv("VAULT_TOKEN") != "" {
		if vc, err := vaultapi.NewClient(vaultapi.DefaultConfig()); err == nil {
			c.Vault = objstore.VaultKV{Client: vc}
		}
	}
	return c
}
