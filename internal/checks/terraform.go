package checks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// TerraformExec adapts terraform-exec to the Terraform seam SC-006 needs:
// `plan -detailed-exitcode -out`, `show -json` of that plan and of the state.
type TerraformExec struct {
	Dir    string            // the repository (main.tf, terraform.tfvars)
	Binary string            // tofu or terraform
	Env    map[string]string // e.g. TF_CLI_CONFIG_FILE
}

func (t TerraformExec) tf() (*tfexec.Terraform, error) {
	tf, err := tfexec.NewTerraform(t.Dir, t.Binary)
	if err != nil {
		return nil, err
	}
	if len(t.Env) > 0 {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		for k, v := range t.Env {
			env[k] = v
		}
		// terraform-exec refuses the TF_* variables it manages itself.
		for _, k := range tfexec.ProhibitedEnv(env) {
			delete(env, k)
		}
		if err := tf.SetEnv(env); err != nil {
			return nil, err
		}
	}
	return tf, nil
}

// Plan implements Terraform: the planned changes, none when in step.
func (t TerraformExec) Plan(ctx context.Context) ([]string, error) {
	tf, err := t.tf()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "migrate-tui-check-plan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "check.tfplan")
	changed, err := tf.Plan(ctx, tfexec.Out(out), tfexec.Lock(false))
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, nil
	}
	p, err := tf.ShowPlanFile(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	return PlanChanges(p), nil
}

// PlanChanges lists "action address" for every resource a plan would touch.
func PlanChanges(p *tfjson.Plan) []string {
	var out []string
	if p == nil {
		return nil
	}
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Change.Actions.NoOp() || rc.Change.Actions.Read() {
			continue
		}
		var acts []string
		for _, a := range rc.Change.Actions {
			acts = append(acts, string(a))
		}
		out = append(out, strings.Join(acts, "+")+" "+rc.Address)
	}
	sort.Strings(out)
	return out
}

// StateModules implements Terraform.
func (t TerraformExec) StateModules(ctx context.Context) ([]string, error) {
	tf, err := t.tf()
	if err != nil {
		return nil, err
	}
	st, err := tf.Show(ctx)
	if err != nil {
		return nil, err
	}
	return StateModules(st), nil
}

// StateModules lists the root module's module calls in a state.
func StateModules(st *tfjson.State) []string {
	if st == nil || st.Values == nil || st.Values.RootModule == nil {
		return nil
	}
	var out []string
	for _, c := range st.Values.RootModule.ChildModules {
		out = append(out, c.Address)
	}
	return out
}
