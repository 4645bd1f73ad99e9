package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"migrate-tui/internal/connect"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/tfvars"
)

// RepoOptions are what a caller of ForRepo chooses; everything else comes
// from the repository, the environment and internal/connect.
type RepoOptions struct {
	Kubeconfig string // --kubeconfig ("": connect.KubeconfigPrecedence)
	NomadAddr  string // --nomad-addr ("": connect.NomadPrecedence)
	TFBinary   string // --tf-binary ("": tfrunner's lookup)
	CAFile     string // --ca-file ("": the system roots)
	DialAddr   string // --dial ("": $MIGRATE_TUI_INGRESS_ADDR)
	// Timeout bounds each API request, the KWOK probe's included.
	Timeout      time.Duration
	AllowRestart bool
	// NoCluster leaves Kube and Dynamic nil (cutover's rollback needs
	// only Nomad).
	NoCluster bool
}

// ForRepo builds the checks' dependencies for the repository in dir, the
// same for `migrate-tui check`, the wizard's verify screen, cutover's gate
// and the stages' criteria. notes are parts that could not be set up but do
// not stop the checks (the checks needing them say so): print them where a
// person reads.
func ForRepo(ctx context.Context, dir string, o RepoOptions) (d *Deps, notes []string, err error) {
	tfvarsPath := filepath.Join(dir, tfvars.FileName)
	dec, err := LoadDecisions(tfvarsPath)
	if errors.Is(err, os.ErrNotExist) {
		notes = append(notes, fmt.Sprintf("no terraform.tfvars in %s: checking against variables.tf's defaults", dir))
	} else if err != nil {
		return nil, nil, err
	}
	d = &Deps{Decisions: dec, AllowRestart: o.AllowRestart}

	if !o.NoCluster {
		if err := clusterDeps(ctx, d, dir, o); err != nil {
			return nil, notes, err
		}
	}

	d.TLS.DialAddr = o.DialAddr
	if d.TLS.DialAddr == "" {
		// The sandbox exports its Traefik's websecure address.
		d.TLS.DialAddr = os.Getenv(IngressAddrEnv)
	}
	if d.TLS.Roots, err = LoadCAFile(o.CAFile); err != nil {
		return nil, notes, err
	}

	// One read of the state: Nomad's address (connect.NomadPrecedence) and
	// preflight's baseline for SC-005.
	st, stErr := state.Load(dir)
	if connect.NomadAddr(o.NomadAddr, st) != "" {
		nc, err := connect.Nomad(o.NomadAddr, st)
		if err != nil {
			return nil, notes, fmt.Errorf("nomad client: %w", err)
		}
		w, err := NomadFromState(st, nc)
		if stErr != nil {
			err = stErr
		}
		d.Nomad = w
		if err != nil {
			notes = append(notes, fmt.Sprintf("SC-005: %v", err))
		} else {
			d.NomadHealth = w
		}
	}

	if _, err := os.Stat(filepath.Join(dir, "main.tf")); err == nil {
		if bin, err := tfrunner.FindBinary(o.TFBinary); err == nil {
			d.Terraform = TerraformExec{Dir: dir, Binary: bin}
		} else {
			notes = append(notes, fmt.Sprintf("SC-006: %v", err))
		}
	}
	d.Assessor = AssessmentsFor(dir)
	d.Decision = FileDecision{Path: filepath.Join(dir, "specs", "003-nomad-to-kubernetes", "decision.md")}
	return d, notes, nil
}

// AssessmentsFor is the repository's SC-007 answers file.
func AssessmentsFor(dir string) FileAssessments {
	return FileAssessments{Path: filepath.Join(dir, ".migrate-tui", "assessment.json")}
}

// clusterDeps reaches the cluster by connect.KubeconfigPrecedence and
// decides whether pods can be exec'd into.
func clusterDeps(ctx context.Context, d *Deps, dir string, o RepoOptions) error {
	kc, err := connect.ResolveKubeconfig(o.Kubeconfig, dir)
	if err != nil {
		return err
	}
	cfg, err := kc.RESTConfig(o.Timeout)
	if err != nil {
		return err
	}
	if d.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if d.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	// KWOK's nodes run no processes: there is nothing to exec into there.
	// Every node, not the first: IsSimulated needs all of them (one real
	// node means real behaviour). The request is bounded by o.Timeout
	// (cfg.Timeout), not a window of its own a busy API server could miss.
	if nodes, err := d.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil && len(nodes.Items) > 0 {
		if !IsSimulated(nodes.Items) {
			d.Exec = PodExec{Config: cfg, Kube: d.Kube}
		} else {
			d.TLS.SimulatedBackends = true
		}
	}
	return nil
}
