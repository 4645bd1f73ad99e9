package stages

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/state"
	"migrate-tui/internal/tlssecret"
	"migrate-tui/internal/tlssecret/tlstest"
)

// The ingress stage is not planned while the Secret its TLSStore names is
// missing; once `tls-secret` created it, the stage plans.
func TestIngressStageRefusedWithoutTheTLSSecret(t *testing.T) {
	ctx := context.Background()
	dir := fixture(t)
	tfvarsPath := filepath.Join(dir, "terraform.tfvars")
	// bundled-traefik puts the TLSStore in kube-system; a name of this
	// test's own keeps it apart from any other.
	name := fmt.Sprintf("wildcard-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		world.Client.CoreV1().Secrets("kube-system").Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	src := fmt.Sprintf("domain = \"brmartin.co.uk\"\ningress_mode = \"bundled-traefik\"\ntls_secret_name = %q\n", name)
	if err := os.WriteFile(tfvarsPath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	none := GuardFunc(func(context.Context) ([]Regression, error) { return nil, nil })
	r := &Runner{TF: realTF(t, dir), Vars: TfvarsFile{Path: tfvarsPath}, Guard: none,
		Record: StateRecorder{RepoDir: dir},
		Pre:    map[string]PreApply{"ingress": IngressTLS(world.Client, tfvarsPath)}}
	ingress, _ := ByName("ingress")

	p, err := r.Plan(ctx, ingress)
	var pe *PreCheckError
	var me *tlssecret.MissingError
	if p != nil || !errors.As(err, &pe) || !errors.As(err, &me) {
		t.Fatalf("plan without the Secret = %v, %v; want a *PreCheckError wrapping *tlssecret.MissingError", p, err)
	}
	for _, want := range []string{"stage ingress not planned", "kube-system/" + name, "does not exist", "migrate-tui tls-secret"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("refusal %q does not say %q", err, want)
		}
	}
	if enabled, _ := r.Vars.EnabledStages(); slices.Contains(enabled, "ingress") {
		t.Fatalf("a refused stage was enabled in terraform.tfvars: %v", enabled)
	}
	st, _ := state.Load(dir)
	if rec := st.Record("stage.ingress"); !strings.Contains(rec.Error, "migrate-tui tls-secret") {
		t.Fatalf("stage.ingress recorded as %+v, want the refusal", rec)
	}

	pair := tlstest.Valid(t, "brmartin.co.uk")
	cert, key := pair.Files(t, t.TempDir())
	m, _ := tlssecret.FromFiles(cert, key)
	target, err := tlssecret.TargetFromTfvars(tfvarsPath)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := tlssecret.Apply(ctx, world.Client, target, m); err != nil || res != tlssecret.Created {
		t.Fatalf("creating the Secret: %q, %v", res, err)
	}
	p, err = r.Plan(ctx, ingress)
	if err != nil || p == nil || !p.Summary.HasChanges() {
		t.Fatalf("plan with the Secret = %+v, %v; want a plan", p, err)
	}
	// Other stages never run the ingress check.
	os.WriteFile(tfvarsPath, []byte(strings.ReplaceAll(src, name, "absent")), 0o644)
	storage, _ := ByName("storage")
	if _, err := r.Plan(ctx, storage); err != nil {
		t.Fatalf("storage plan ran the ingress pre-check: %v", err)
	}
}
