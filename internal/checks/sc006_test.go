package checks_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/testtools"
)

const sc006Root = `terraform {
  required_providers {
    kubectl = { source = "gavinbunney/kubectl", version = "1.19.0" }
  }
}
provider "kubectl" {
  config_path      = %q
  load_config_file = true
}
module "whoami" {
  source    = "./whoami"
  namespace = %q
}
`

const sc006Module = `terraform {
  required_providers {
    kubectl = { source = "gavinbunney/kubectl" }
  }
}
variable "namespace" { type = string }
resource "kubectl_manifest" "config" {
  yaml_body = <<-YAML
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: whoami-config
      namespace: ${var.namespace}
    data:
      greeting: hello
  YAML
}
`

func TestSC006(t *testing.T) {
	t.Parallel()
	tofu, err := testtools.Bin("tofu")
	if err != nil {
		t.Fatal(err)
	}
	ns := world.Namespace(t)
	dir := t.TempDir()
	rc, err := testtools.WriteCLIConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "repo")
	must(t, os.MkdirAll(filepath.Join(repo, "whoami"), 0o755))
	must(t, os.WriteFile(filepath.Join(repo, "main.tf"), []byte(fmt.Sprintf(sc006Root, world.Kubeconfig, ns)), 0o644))
	must(t, os.WriteFile(filepath.Join(repo, "whoami", "main.tf"), []byte(sc006Module), 0o644))

	tf, err := tfexec.NewTerraform(repo, tofu)
	must(t, err)
	env := map[string]string{"TF_CLI_CONFIG_FILE": rc, "HOME": os.Getenv("HOME"), "PATH": os.Getenv("PATH")}
	must(t, tf.SetEnv(env))
	ctx := ctxT(t, 5*time.Minute)
	must(t, tf.Init(ctx))
	must(t, tf.Apply(ctx))

	d := deps(ns, "whoami")
	d.Terraform = checks.TerraformExec{Dir: repo, Binary: tofu, Env: map[string]string{"TF_CLI_CONFIG_FILE": rc}}
	expect(t, runOne(t, "SC-006", d, checks.RunOptions{}), checks.Pass, "plan: no changes", "state modules: module.whoami")

	t.Run("a PoC service without a module", func(t *testing.T) {
		d2 := *d
		d2.Decisions.PoCServices = []string{"whoami", "echo"}
		expect(t, runOne(t, "SC-006", &d2, checks.RunOptions{}), checks.Fail, "no module in the Terraform state for: echo")
	})
	t.Run("an enabled scaffolded service without a module", func(t *testing.T) {
		d2 := *d
		d2.Decisions.Scaffolded = []string{"sonarr"}
		expect(t, runOne(t, "SC-006", &d2, checks.RunOptions{}), checks.Fail, "no module in the Terraform state for: sonarr")
	})
	t.Run("drift behind Terraform's back", func(t *testing.T) {
		cm, err := world.Client.CoreV1().ConfigMaps(ns).Get(context.Background(), "whoami-config", metav1.GetOptions{})
		must(t, err)
		cm.Data["greeting"] = "changed by hand"
		_, err = world.Client.CoreV1().ConfigMaps(ns).Update(context.Background(), cm, metav1.UpdateOptions{})
		must(t, err)
		expect(t, runOne(t, "SC-006", d, checks.RunOptions{}), checks.Fail, "plan shows drift", "module.whoami.kubectl_manifest.config")
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
