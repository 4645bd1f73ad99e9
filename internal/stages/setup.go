package stages

import (
	"context"
	"path/filepath"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/objstore"
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
	verifier, cfg, err := objectsVerifier(tf, dir)
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

func objectsVerifier(tf *tfrunner.Runner, dir string) (Verifier, *rest.Config, error) {
	kc, err := connect.TerraformKubeconfig(dir)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := kc.RESTConfig(0)
	if err != nil {
		return nil, nil, err
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
	// The criteria see the cluster Terraform applied to, with the same
	// dependencies as `migrate-tui check` (checks.ForRepo).
	criteria := CriteriaVerifier{Deps: func(ctx context.Context) (*checks.Deps, error) {
		d, _, err := checks.ForRepo(ctx, dir, checks.RepoOptions{Kubeconfig: kc.Path})
		return d, err
	}}
	wait, err := VerifyWait()
	if err != nil {
		return nil, nil, err
	}
	return Verifiers{ObjectsVerifier{State: tf, Dynamic: dyn, Mapper: mapper, Wait: wait}, criteria}, cfg, nil
}

// vaultSide is the vault stage's work in Vault itself (VAULT_ADDR and
// VAULT_TOKEN from the environment through internal/connect; the token is
// never stored): Kubernetes
// auth pointed at the cluster's API address from the kubeconfig, with the
// policies and roles from the Terraform outputs.
func vaultSide(tf *tfrunner.Runner, cfg *rest.Config) PostApply {
	return PostApplyFunc(func(ctx context.Context) ([]string, error) {
		vc, err := connect.Vault()
		if err != nil {
			return nil, err
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
// The address and token follow connect.NomadPrecedence (no flag here).
func nomadGuard(ctx context.Context, dir string) (Guard, error) {
	st, err := state.Load(dir)
	if err != nil {
		return nil, err
	}
	base, err := st.Baseline()
	if err != nil {
		return nil, err
	}
	nc, err := connect.Nomad("", st)
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
	if connect.VaultConfigured() {
		if vc, err := connect.Vault(); err == nil {
			c.Vault = objstore.VaultKV{Client: vc}
		}
	}
	return c
}
