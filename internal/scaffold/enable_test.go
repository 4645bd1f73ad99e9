package scaffold

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"migrate-tui/internal/tftree"
	"migrate-tui/internal/tfvars"
)

// The committed services.generated.tf is what RootFile renders for the
// modules it lists (so a hand edit there would be lost on the next scaffold:
// the test says so first).
func TestGeneratedRootIsRendered(t *testing.T) {
	p := filepath.Join(repoRoot(t), GeneratedRoot)
	names, err := GeneratedServices(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := RootFileFor(repoRoot(t), names)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs from what scaffold writes for %v:\n%s", GeneratedRoot, names, want)
	}
}

// Enable adds a module block and a services entry, keeps the other
// services, the operator's tfvars keys and comments, and refuses a PoC name.
func TestEnable(t *testing.T) {
	repo := t.TempDir()
	tv := filepath.Join(repo, tfvars.FileName)
	orig := "# my homelab\ndomain = \"example.org\"\nservices = {\n  gitea = { enabled = false }\n  sonarr = { enabled = false, volume_size = \"5Gi\" }\n}\n"
	if err := os.WriteFile(tv, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, GeneratedRoot), RootFile([]string{"gitea"}, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sonarr", "vaultwarden", "sonarr"} {
		if err := Enable(repo, s, true); err != nil {
			t.Fatal(err)
		}
	}
	names, err := GeneratedServices(filepath.Join(repo, GeneratedRoot))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"gitea", "sonarr", "vaultwarden"}; !slices.Equal(names, want) {
		t.Fatalf("module blocks %v, want %v", names, want)
	}
	vals, _, err := tfvars.Read(tv)
	if err != nil {
		t.Fatal(err)
	}
	if vals["domain"].AsString() != "example.org" {
		t.Errorf("domain changed: %#v", vals["domain"])
	}
	b, _ := os.ReadFile(tv)
	if !strings.HasPrefix(string(b), "# my homelab\n") {
		t.Errorf("the operator's comment is gone:\n%s", b)
	}
	svc := vals[ServicesKey]
	for name, want := range map[string]bool{"gitea": false, "sonarr": true, "vaultwarden": true} {
		if !svc.Type().HasAttribute(name) {
			t.Errorf("services has no %s:\n%s", name, b)
			continue
		}
		if got := svc.GetAttr(name).GetAttr("enabled"); !got.Equals(cty.BoolVal(want)).True() {
			t.Errorf("services.%s.enabled = %#v, want %v", name, got, want)
		}
	}
	// Enabling again keeps the entry's overrides.
	if got := svc.GetAttr("sonarr"); !got.Type().HasAttribute("volume_size") || got.GetAttr("volume_size").AsString() != "5Gi" {
		t.Errorf("services.sonarr lost its volume_size override:\n%s", b)
	}
	var rn *ReservedNameError
	if err := Enable(repo, "whoami", true); !errors.As(err, &rn) {
		t.Fatalf("enabling a scaffolded whoami: %v, want a ReservedNameError", err)
	}
}

// A copy of the repository with a scaffolded module written and enabled
// passes tofu validate at the root: the generated block's inputs are the
// module's variables and the root's expressions type-check.
func TestEnabledRootValidates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if err := tftree.CopyRepo(repoRoot(t), dir); err != nil {
		t.Fatal(err)
	}
	jobs := fixtures(t)
	for _, name := range []string{"sonarr", "restic-backup"} {
		mod, err := Build(jobs[name], Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mod.Write(dir, false); err != nil {
			t.Fatal(err)
		}
		if err := Enable(dir, mod.Service, true); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := newTofu(t).Validate(ctx, dir); err != nil {
		t.Fatal(err)
	}
}
