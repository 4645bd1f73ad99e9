package scaffold

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"text/template"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// TestExportTemplateQuotes: the injector's env file, rendered the way
// consul-template renders it (Go templates, replaceAll OLD NEW S) with a
// secret holding quotes, spaces and $, is sourced by sh into the exact
// values.
func TestExportTemplateQuotes(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	vals := map[string]any{"password": `it's "$HOME" & 'x'`, "user": "plain"}
	keys := []secretKey{{secretKey: "DB_PASS", property: "password", path: "nomad/data/default/app"}, {secretKey: "DB_USER", property: "user", path: "nomad/data/default/app"}}
	tp, err := template.New("env").Funcs(template.FuncMap{
		"secret":     func(p string) map[string]any { return map[string]any{"Data": map[string]any{"data": vals}} },
		"replaceAll": func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	}).Parse(exportTemplate(keys))
	if err != nil {
		t.Fatalf("the injector template does not parse as a Go template: %v\n%s", err, exportTemplate(keys))
	}
	var b strings.Builder
	if err := tp.Execute(&b, nil); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sh, "-ec", b.String()+`printf '%s\n%s' "$DB_PASS" "$DB_USER"`).CombinedOutput()
	if err != nil {
		t.Fatalf("sh could not source the rendered env file (%v): %s", err, out)
	}
	if want := vals["password"].(string) + "\nplain"; string(out) != want {
		t.Errorf("sourced values: want %q, got %q", want, out)
	}
}

// TestAgentInjectorVariant: with vault_method = agent-injector the same
// modules render the Vault Agent injector's annotations instead of
// ExternalSecrets, and the API server accepts every object.
func TestAgentInjectorVariant(t *testing.T) {
	if world == nil {
		t.Skip("needs the test world (not -short)")
	}
	tf := newTofu(t)
	cases := map[string]func(t *testing.T, objs []*unstructured.Unstructured){
		"vaultwarden": func(t *testing.T, objs []*unstructured.Unstructured) {
			d := find(t, objs, "Deployment", "vaultwarden")
			ann := d.Object["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
			want(t, d, "nomad/data/default/vaultwarden-rsa", "spec", "template", "metadata", "annotations", "vault.hashicorp.com/agent-inject-secret-rsa_key.pem")
			want(t, d, "/secrets", "spec", "template", "metadata", "annotations", "vault.hashicorp.com/secret-volume-path-rsa_key.pem")
			want(t, d, "auth/kubernetes-k3s", "spec", "template", "metadata", "annotations", "vault.hashicorp.com/auth-path")
			want(t, d, "scaffolded-vaultwarden", "spec", "template", "metadata", "annotations", "vault.hashicorp.com/role")
			want(t, d, "true", "spec", "template", "spec", "automountServiceAccountToken")
			if tpl, _ := ann["vault.hashicorp.com/agent-inject-template-rsa_key.pem"].(string); !strings.Contains(tpl, `{{ with secret "nomad/data/default/vaultwarden-rsa" }}{{ .Data.data.private_key }}{{ end }}`) {
				t.Errorf("the file template is not Nomad's own: %q", tpl)
			}
			if tpl, _ := ann["vault.hashicorp.com/agent-inject-template-vaultwarden-0.env"].(string); !strings.Contains(tpl, `export ADMIN_TOKEN='{{ .Data.data.ADMIN_TOKEN | replaceAll "'" "'\\''" }}'`) {
				t.Errorf("the env template does not export single-quoted values: %q", tpl)
			}
			if s := fmtSpec(d); strings.Contains(s, "secretName:vaultwarden-vaultwarden-3") || strings.Contains(s, "vaultwarden-vaultwarden-0") {
				t.Errorf("the ESO Secrets are still referenced: %s", s)
			}
			sa := find(t, objs, "ServiceAccount", "vaultwarden")
			want(t, sa, "true", "automountServiceAccountToken")
		},
		"restic-backup": func(t *testing.T, objs []*unstructured.Unstructured) {
			c := find(t, objs, "CronJob", "restic-backup")
			p := []string{"spec", "jobTemplate", "spec", "template"}
			want(t, c, "true", append(p, "metadata", "annotations", "vault.hashicorp.com/agent-pre-populate-only")...)
			want(t, c, ". /vault/secrets/restic-0.env\nexec \"$@\"", append(p, "spec", "containers", "0", "command", "2")...)
			want(t, c, "/bin/sh", append(p, "spec", "containers", "0", "args", "0")...)
		},
	}
	for _, name := range []string{"restic-backup", "vaultwarden"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			md := stageFixture(t, name, Options{})
			ns := world.Namespace(t)
			out, err := tf.Render(ctx, md, Inputs{Namespace: ns, IngressMode: "traefik-behind-external", IngressNamespace: "traefik",
				ServiceMesh: "none", ClusterCIDR: "10.42.0.0/16", LANCIDR: "192.168.1.0/24", StorageBackend: "glusterfs-nfs", VaultMethod: "agent-injector"})
			if err != nil {
				t.Fatal(err)
			}
			objs := decode(t, out)
			for _, o := range objs {
				if o.GetKind() == "ExternalSecret" {
					t.Errorf("ExternalSecret %s rendered with vault_method agent-injector", o.GetName())
				}
			}
			cases[name](t, objs)
			if err := dryRun(ctx, world.RESTConfig, objs); err != nil {
				t.Errorf("server-side dry-run refused:\n%v\n---\n%s", err, out)
			}
		})
	}
	if t.Failed() {
		return
	}
	// One real apply of the injector variant: the CronJob is in the cluster
	// with the annotations the injector's webhook keys on.
	t.Run("apply", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		md := stageFixture(t, "restic-backup", Options{})
		ns := world.Namespace(t)
		if _, err := tf.Apply(ctx, md, Inputs{Namespace: ns, IngressMode: "none", ServiceMesh: "none", ClusterCIDR: "10.42.0.0/16",
			LANCIDR: "192.168.1.0/24", StorageBackend: "local-path", VaultMethod: "agent-injector"}, world.Kubeconfig); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tf.Destroy(context.Background(), md) })
		dyn, err := dynamic.NewForConfig(world.RESTConfig)
		if err != nil {
			t.Fatal(err)
		}
		cj, err := dyn.Resource(schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}).Namespace(ns).Get(ctx, "restic-backup", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the applied CronJob is not in the cluster: %v", err)
		}
		got, _, _ := unstructured.NestedStringMap(cj.Object, "spec", "jobTemplate", "spec", "template", "metadata", "annotations")
		if got["vault.hashicorp.com/agent-inject"] != "true" || !strings.Contains(got["vault.hashicorp.com/agent-inject-template-restic-0.env"], "export RESTIC_PASSWORD=") {
			t.Errorf("applied CronJob's pod annotations: %v", got)
		}
		l, err := dyn.Resource(schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) != 0 {
			t.Errorf("want no ExternalSecret applied with agent-injector, got %d (%v)", len(l.Items), err)
		}
	})
}

func fmtSpec(o *unstructured.Unstructured) string {
	b, _ := json.Marshal(o.Object["spec"])
	return strings.NewReplacer(`"`, "", ` `, "").Replace(string(b))
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestInjectorRefusesUnusableFileNames: a file the injector could not key
// (a name an annotation key cannot hold, or a second file of the same name
// in one pod) is listed as not mapped rather than rendered wrong.
func TestInjectorRefusesUnusableFileNames(t *testing.T) {
	j := fixtures(t)["vaultwarden"]
	task := j.TaskGroups[0].Tasks[0]
	for _, tp := range task.Templates {
		if *tp.DestPath == "secrets/rsa_key.pem" {
			hidden, again := *tp, *tp
			h, a := "secrets/.hidden", "local/rsa_key.pem"
			hidden.DestPath, again.DestPath = &h, &a
			task.Templates = append(task.Templates, &hidden, &again)
			break
		}
	}
	mod, err := Build(j, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range mod.Unmapped {
		got = append(got, u.Reason)
	}
	all := strings.Join(got, "\n")
	for _, w := range []string{`the file name ".hidden" cannot be part of an annotation key`, "a second template named rsa_key.pem"} {
		if !strings.Contains(all, w) {
			t.Errorf("no unmapped item says %q:\n%s", w, all)
		}
	}
}
