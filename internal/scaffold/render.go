package scaffold

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"migrate-tui/internal/tftree"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Tofu runs OpenTofu (or Terraform): the dry-run renders the module's
// manifests through the module's own templatefile calls, never a second
// renderer.
type Tofu struct {
	Bin string
	Env []string // nil: the process environment
}

// TofuError is a tofu command that failed: what ran, where, its output.
type TofuError struct {
	Args   []string
	Dir    string
	Output string
	Err    error
}

func (e *TofuError) Error() string {
	return fmt.Sprintf("%s %s in %s failed (%v):\n%s\nFix the module (or the inputs) and run it again; `%s validate` in that directory shows the same diagnostics",
		filepath.Base(e.Bin()), strings.Join(e.Args, " "), e.Dir, e.Err, tail(e.Output, 4000), filepath.Base(e.Bin()))
}

func (e *TofuError) Bin() string   { return "tofu" }
func (e *TofuError) Unwrap() error { return e.Err }

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func (t Tofu) run(ctx context.Context, dir, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, t.Bin, args...)
	cmd.Dir = dir
	if t.Env != nil {
		cmd.Env = t.Env
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), &TofuError{Args: args, Dir: dir, Output: out.String() + errb.String(), Err: err}
	}
	return out.String(), nil
}

// Inputs are the module's variables for a dry-run, as the root module
// would pass them.
type Inputs struct {
	Namespace, IngressMode, IngressNamespace, ServiceMesh string
	ClusterCIDR, LANCIDR, StorageBackend, VaultMethod     string
	NodePort                                              int
	VPAEnabled                                            bool
	// Vars are further module arguments (name => string value), such as
	// litestream_bucket.
	Vars map[string]string
}

// Stage writes the module into a scratch tree under dir next to copies of
// what it references (k8s/apply, modules-k8s/shared) from repo, so the
// dry-run never touches the repository. It returns the module's directory.
func Stage(dir, repo string, mod *Module) (string, error) {
	for _, sub := range []string{"k8s/apply", "modules-k8s/shared"} {
		if err := tftree.Copy(filepath.Join(repo, sub), filepath.Join(dir, sub)); err != nil {
			return "", fmt.Errorf("copy %s from the repository %s: %w (is --dir the migrate-tui repository?)", sub, repo, err)
		}
	}
	md := filepath.Join(dir, "modules-k8s", mod.Service)
	return md, mod.writeFiles(md)
}

// Validate runs init (providers from the CLI config) and validate in a
// staged module directory.
func (t Tofu) Validate(ctx context.Context, moduleDir string) error {
	if _, err := t.run(ctx, moduleDir, "", "init", "-input=false", "-backend=false", "-no-color"); err != nil {
		return err
	}
	_, err := t.run(ctx, moduleDir, "", "validate", "-no-color")
	return err
}

// Render prints the objects the staged module at moduleDir would create,
// one multi-document YAML: a root module calls it with in, and tofu
// console evaluates its manifests output.
func (t Tofu) Render(ctx context.Context, moduleDir string, in Inputs) (string, error) {
	root, err := t.root(ctx, moduleDir, "dry-run-root", in, "")
	if err != nil {
		return "", err
	}
	// base64 keeps the console's string quoting out of the way.
	out, err := t.run(ctx, root, `base64encode(join("\n---\n", module.svc.manifests))`+"\n", "console", "-no-color")
	if err != nil {
		return "", err
	}
	q := strings.TrimSpace(out)
	s, err := strconv.Unquote(q)
	if err != nil {
		return "", fmt.Errorf("tofu console printed %q, not a quoted string: %w", tail(q, 200), err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("tofu console's output is not base64: %w", err)
	}
	return tidy(string(b)), nil
}

// Apply applies the staged module for real with the kubectl provider on
// kubeconfig (a rehearsal against a sandbox or test cluster), returning
// the module's objects output; Destroy removes them again.
func (t Tofu) Apply(ctx context.Context, moduleDir string, in Inputs, kubeconfig string) (string, error) {
	root, err := t.root(ctx, moduleDir, "apply-root", in, kubeconfig)
	if err != nil {
		return "", err
	}
	if _, err := t.run(ctx, root, "", "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return "", err
	}
	return t.run(ctx, root, "", "output", "-json", "objects")
}

// Destroy destroys what Apply made.
func (t Tofu) Destroy(ctx context.Context, moduleDir string) error {
	root := filepath.Join(filepath.Dir(filepath.Dir(moduleDir)), "apply-root")
	_, err := t.run(ctx, root, "", "destroy", "-auto-approve", "-input=false", "-no-color")
	return err
}

// root writes a root module calling the staged module with in (and, for an
// apply, the kubectl provider on kubeconfig) and runs init in it.
func (t Tofu) root(ctx context.Context, moduleDir, name string, in Inputs, kubeconfig string) (string, error) {
	root := filepath.Join(filepath.Dir(filepath.Dir(moduleDir)), name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, moduleDir)
	if err != nil {
		return "", err
	}
	body := fmt.Sprintf(`module "svc" {
  source            = %s
  namespace         = %s
  service_mesh      = %s
  ingress_mode      = %s
  ingress_namespace = %s
  cluster_cidr      = %s
  lan_cidr          = %s
  node_port         = %d
  storage_backend   = %s
  vault_method      = %s
  vpa_enabled       = %t
%s}
`, hcl(filepath.ToSlash(rel)), hcl(in.Namespace), hcl(in.ServiceMesh), hcl(in.IngressMode), hcl(in.IngressNamespace),
		hcl(in.ClusterCIDR), hcl(in.LANCIDR), in.NodePort, hcl(in.StorageBackend), hcl(in.VaultMethod), in.VPAEnabled, extraArgs(in.Vars))
	if kubeconfig != "" {
		body += fmt.Sprintf(`
terraform {
  required_providers {
    kubectl = {
      source = "gavinbunney/kubectl"
    }
  }
}

provider "kubectl" {
  config_path      = %s
  load_config_file = true
}

output "objects" {
  value = module.svc.objects
}
`, hcl(kubeconfig))
	}
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(body), 0o644); err != nil {
		return "", err
	}
	args := []string{"init", "-input=false", "-no-color"}
	if kubeconfig == "" {
		args = append(args, "-backend=false")
	}
	if _, err := t.run(ctx, root, "", args...); err != nil {
		return "", err
	}
	return root, nil
}

func extraArgs(vars map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(vars) {
		fmt.Fprintf(&b, "  %s = %s\n", k, hcl(vars[k]))
	}
	return b.String()
}

// tidy drops empty documents (a template whose objects were all switched
// off) so the stream holds only objects.
func tidy(s string) string {
	var docs []string
	for _, d := range strings.Split("\n"+s+"\n", "\n---\n") {
		keep := false
		for _, l := range strings.Split(d, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				keep = true
				break
			}
		}
		if keep {
			docs = append(docs, strings.Trim(d, "\n"))
		}
	}
	return strings.Join(docs, "\n---\n") + "\n"
}
