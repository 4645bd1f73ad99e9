package litestream_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"migrate-tui/internal/tftree"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/tfrunner/tftest"
)

// rendered is the overseerr module's manifests as OpenTofu renders them.
type rendered struct {
	sts       appsv1.StatefulSet
	configMap corev1.ConfigMap
	extSecret map[string]any // nil without vault_method external-secrets
	all       string
}

// renderOverseerr renders modules-k8s/overseerr with the pinned OpenTofu:
// the module (with the modules it calls) is copied out of the repository,
// `tofu init` takes the provider from the test mirror, and `tofu console`
// prints local.rendered, the very list the module applies.
func renderOverseerr(t *testing.T, ctx context.Context, vars map[string]any) rendered {
	t.Helper()
	root, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := tftest.Tofu(t)
	tmp := t.TempDir()
	for _, p := range []string{"modules-k8s/overseerr", "modules-k8s/shared", "k8s/apply"} {
		copyTree(t, filepath.Join(root, p), filepath.Join(tmp, p))
	}
	dir := filepath.Join(tmp, "modules-k8s/overseerr")
	b, _ := json.Marshal(vars)
	if err := os.WriteFile(filepath.Join(dir, "test.auto.tfvars.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(tftest.CLIEnv(t, ""), "TF_DATA_DIR="+filepath.Join(tmp, "tfdata"))
	run := func(stdin string, args ...string) string {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = dir, env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("tofu %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String()
	}
	run("", "init", "-backend=false", "-input=false", "-no-color")
	// base64 so the console's string quoting cannot alter the text.
	out := strings.TrimSpace(run(`base64encode(join("\n---\n", local.rendered))`+"\n", "console", "-no-color"))
	raw, err := base64.StdEncoding.DecodeString(strings.Trim(out, `"`))
	if err != nil {
		t.Fatalf("tofu console printed %q: %v", out, err)
	}
	var r rendered
	r.all = string(raw)
	for _, doc := range strings.Split(r.all, "\n---\n") {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		switch meta.Kind {
		case "StatefulSet":
			must(t, yaml.UnmarshalStrict([]byte(doc), &r.sts))
		case "ConfigMap":
			must(t, yaml.UnmarshalStrict([]byte(doc), &r.configMap))
		case "ExternalSecret":
			must(t, yaml.Unmarshal([]byte(doc), &r.extSecret))
		}
	}
	if r.sts.Name == "" || r.configMap.Name == "" {
		t.Fatalf("rendered manifests lack the StatefulSet or the ConfigMap:\n%s", r.all)
	}
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := tftree.Copy(src, dst); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// initContainer returns the rendered pod template's init container name.
func (r rendered) initContainer(t *testing.T, name string) corev1.Container {
	t.Helper()
	for _, c := range r.sts.Spec.Template.Spec.InitContainers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("StatefulSet %s has no init container %s", r.sts.Name, name)
	return corev1.Container{}
}

// secretEnv resolves a secretKeyRef the way External Secrets would fill the
// Secret: the ExternalSecret's data entry for that key names a Vault KV
// key and property.
func (r rendered) secretEnv(ref *corev1.SecretKeySelector) (vaultKey, property string, err error) {
	es := r.extSecret
	if es == nil {
		return "", "", fmt.Errorf("no ExternalSecret rendered for Secret %s", ref.Name)
	}
	spec, _ := es["spec"].(map[string]any)
	target, _ := spec["target"].(map[string]any)
	if target["name"] != ref.Name {
		return "", "", fmt.Errorf("the ExternalSecret fills Secret %v, the container reads Secret %s", target["name"], ref.Name)
	}
	data, _ := spec["data"].([]any)
	for _, d := range data {
		m, _ := d.(map[string]any)
		if m["secretKey"] != ref.Key {
			continue
		}
		rr, _ := m["remoteRef"].(map[string]any)
		k, _ := rr["key"].(string)
		p, _ := rr["property"].(string)
		return k, p, nil
	}
	return "", "", fmt.Errorf("the ExternalSecret puts no key %s into Secret %s", ref.Key, ref.Name)
}
