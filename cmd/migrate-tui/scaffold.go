package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/spf13/cobra"

	"migrate-tui/internal/connect"
	"migrate-tui/internal/scaffold"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tfrunner"
)

type scaffoldOptions struct {
	g                   *globalOptions
	NomadAddr, NomadNS  string
	Service             string
	VolumeSize          string
	Force, DryRun, JSON bool
	Enable              bool
	Output, TFBinary    string
	In                  scaffold.Inputs
	Timeout             time.Duration
}

func newScaffoldCmd(g *globalOptions) *cobra.Command {
	o := &scaffoldOptions{g: g}
	c := &cobra.Command{
		Use:   "scaffold JOB",
		Short: "Generate modules-k8s/<service> from a live Nomad job (what it cannot map is listed)",
		Long: `scaffold reads the Nomad job JOB (read only; Nomad: ` + connect.NomadPrecedence + `)
and writes modules-k8s/<service>/ in the pattern of the other service
modules. What it cannot map is printed and written as comments at the top of
the module's main.tf. It then writes the module's block into
services.generated.tf (wired like main.tf's whoami) and sets
services = { <service> = { enabled = true } } in terraform.tfvars, so the
services stage (or a plain terraform apply) deploys it; --enable=false
writes enabled = false instead. whoami, echo and overseerr are PoC modules
of main.tf: scaffold such a job under another name (--service).

--dry-run -o yaml writes nothing to the repository and prints the objects
the module would create, rendered by tofu from the module's own templates
(tofu init needs the kubectl provider). --json prints what was mapped and
what was not. It refuses (nothing written) when the module exists (pass
--force) or the job has no docker task to run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args[0]) },
	}
	f := c.Flags()
	f.StringVar(&o.NomadAddr, "nomad-addr", "", connect.NomadAddrHelp)
	f.StringVar(&o.NomadNS, "nomad-namespace", "default", "the Nomad job's namespace")
	f.StringVar(&o.Service, "service", "", "module name (default: the job's name)")
	f.StringVar(&o.VolumeSize, "volume-size", scaffold.DefaultVolumeSize, "size of the claims made from the job's volumes (the module's volume_size; volume_sizes overrides one claim)")
	f.BoolVar(&o.Enable, "enable", true, "switch the module on in terraform.tfvars (services.<service>.enabled); false writes enabled = false")
	f.BoolVar(&o.Force, "force", false, "overwrite an existing modules-k8s/<service> (edits there are lost)")
	f.BoolVar(&o.DryRun, "dry-run", false, "write nothing; with -o yaml print the objects the module would create")
	f.StringVarP(&o.Output, "output", "o", "", "with --dry-run: yaml prints the rendered objects")
	f.BoolVar(&o.JSON, "json", false, "print what was mapped and unmapped as JSON")
	f.StringVar(&o.TFBinary, "tf-binary", "", "tofu or terraform binary for --dry-run -o yaml (default: $"+tfrunner.BinaryEnv+", else tofu, else terraform on PATH)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long reading the job and rendering may take")
	// The dry-run's module inputs; defaults are the root module's.
	f.StringVar(&o.In.Namespace, "namespace", "poc", "dry-run: namespace of the services")
	f.StringVar(&o.In.IngressMode, "ingress-mode", "traefik-behind-external", "dry-run: ingress_mode")
	f.StringVar(&o.In.IngressNamespace, "ingress-namespace", "traefik", "dry-run: ingress_namespace")
	f.StringVar(&o.In.ServiceMesh, "service-mesh", "none", "dry-run: service_mesh")
	f.StringVar(&o.In.ClusterCIDR, "cluster-cidr", "10.42.0.0/16", "dry-run: cluster_cidr")
	f.StringVar(&o.In.LANCIDR, "lan-cidr", "192.168.1.0/24", "dry-run: lan_cidr")
	f.StringVar(&o.In.StorageBackend, "storage-backend", "local-path", "dry-run: storage_backend")
	f.StringVar(&o.In.VaultMethod, "vault-method", "external-secrets", "dry-run: vault_method (external-secrets, agent-injector or none)")
	f.IntVar(&o.In.NodePort, "node-port", 0, "dry-run: node_port (external-direct)")
	f.BoolVar(&o.In.VPAEnabled, "vpa", false, "dry-run: vpa_enabled (a VerticalPodAutoscaler for the main Deployment)")
	return c
}

// scaffoldReport is the --json document.
type scaffoldReport struct {
	Service  string          `json:"service"`
	Job      string          `json:"job"`
	Dir      string          `json:"dir,omitempty"`
	Enabled  *bool           `json:"enabled,omitempty"`
	DryRun   bool            `json:"dry_run"`
	Mapped   []scaffold.Item `json:"mapped"`
	Unmapped []scaffold.Item `json:"unmapped"`
	YAML     string          `json:"yaml,omitempty"`
	Error    string          `json:"error,omitempty"`
}

func (o *scaffoldOptions) run(ctx context.Context, jobID string) error {
	if o.Output != "" && (o.Output != "yaml" || !o.DryRun) {
		return usage(fmt.Errorf("-o %s: only -o yaml with --dry-run is supported", o.Output))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	repo, err := o.g.RepoDir()
	if err != nil {
		return err
	}
	job, err := o.readJob(ctx, repo, jobID)
	if err != nil {
		return err
	}
	mod, err := scaffold.Build(job, scaffold.Options{Service: o.Service, VolumeSize: o.VolumeSize})
	if err != nil {
		return withExit(exitDeclined, err)
	}
	rep := scaffoldReport{Service: mod.Service, Job: mod.Job, DryRun: o.DryRun, Mapped: mod.Mapped, Unmapped: mod.Unmapped}
	if o.DryRun {
		if o.Output == "yaml" {
			if rep.YAML, err = o.render(ctx, repo, mod); err != nil {
				return err
			}
		}
	} else {
		// Refused before anything is written: a module named like a PoC
		// service would clash with main.tf's block.
		if err := scaffold.CanEnable(mod.Service); err != nil {
			return withExit(exitDeclined, err)
		}
		dir, err := mod.Write(repo, o.Force)
		var ee *scaffold.ExistsError
		if errors.As(err, &ee) {
			return withExit(exitDeclined, err)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
		rep.Dir = dir
		if err := scaffold.Enable(repo, mod.Service, o.Enable); err != nil {
			return fmt.Errorf("wrote %s, but enabling it failed: %w", dir, err)
		}
		rep.Enabled = &o.Enable
	}
	return o.print(rep)
}

func (o *scaffoldOptions) readJob(ctx context.Context, repo, jobID string) (*api.Job, error) {
	// A state that does not load only loses preflight's address.
	st, _ := state.Load(repo)
	nc, err := connect.Nomad(o.NomadAddr, st)
	if err != nil {
		return nil, err
	}
	q := (&api.QueryOptions{Namespace: o.NomadNS}).WithContext(ctx)
	job, _, err := nc.API().Jobs().Info(jobID, q)
	if err != nil {
		return nil, fmt.Errorf("read Nomad job %s (namespace %s) at %s: %w; check the name with `nomad job status` and that NOMAD_TOKEN may read jobs (namespace read-job)", jobID, o.NomadNS, nc.Address(), err)
	}
	return job, nil
}

// render stages the module in a scratch directory (never the repository)
// and has tofu render it.
func (o *scaffoldOptions) render(ctx context.Context, repo string, mod *scaffold.Module) (string, error) {
	bin, err := tfrunner.FindBinary(o.TFBinary)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "migrate-tui-scaffold-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	md, err := scaffold.Stage(tmp, repo, mod)
	if err != nil {
		return "", err
	}
	env := append(os.Environ(), "TF_DATA_DIR="+filepath.Join(tmp, "tf-data"), "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	return scaffold.Tofu{Bin: bin, Env: env}.Render(ctx, md, o.In)
}

func (o *scaffoldOptions) print(rep scaffoldReport) error {
	w := o.g.Out
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if rep.YAML != "" {
		fmt.Fprint(w, rep.YAML)
		// The list of what was not mapped goes to stderr so stdout stays
		// one YAML stream.
		w = o.g.Err
	} else if rep.Dir != "" {
		fmt.Fprintf(w, "wrote %s (%d items mapped)\n", rep.Dir, len(rep.Mapped))
		fmt.Fprintf(w, "module block in %s; services.%s.enabled = %t in %s (the services stage applies it)\n", scaffold.GeneratedRoot, rep.Service, rep.Enabled != nil && *rep.Enabled, "terraform.tfvars")
	} else {
		fmt.Fprintf(w, "%s: %d items mapped (dry run, nothing written)\n", rep.Service, len(rep.Mapped))
	}
	if len(rep.Unmapped) == 0 {
		fmt.Fprintln(w, "everything in the job was mapped")
		return nil
	}
	fmt.Fprintf(w, "not mapped (%d, also commented in main.tf):\n", len(rep.Unmapped))
	for _, u := range rep.Unmapped {
		fmt.Fprintf(w, "  - %s: %s: %s\n", u.Where, u.What, u.Reason)
	}
	return nil
}
