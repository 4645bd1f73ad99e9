package tfanswers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/decisions"
)

func TestReadOverDefaults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "terraform.tfvars")
	os.WriteFile(p, []byte("service_mesh = \"linkerd\"\npoc_namespace = 1\nenabled_stages = [\"mesh\"]\n"), 0o600)
	ans, vals, err := Read(p)
	if err == nil || !strings.Contains(err.Error(), "poc_namespace") {
		t.Fatalf("a number for poc_namespace gave no error naming it: %v", err)
	}
	if ans["service_mesh"] != "linkerd" {
		t.Fatalf("service_mesh = %v, want linkerd from the file", ans["service_mesh"])
	}
	if ans["poc_namespace"] != decisions.Defaults()["poc_namespace"] {
		t.Fatalf("poc_namespace = %v, want the default after a wrong type", ans["poc_namespace"])
	}
	if _, ok := vals["enabled_stages"]; !ok {
		t.Fatal("the raw values lack enabled_stages")
	}
	// No file yet (before the first decide) is the defaults, as tfvars.Read
	// treats it.
	if ans, _, err := Read(filepath.Join(t.TempDir(), "missing")); err != nil || ans["service_mesh"] != decisions.Defaults()["service_mesh"] {
		t.Fatalf("a missing file: %v, %v; want the defaults", ans["service_mesh"], err)
	}
}
