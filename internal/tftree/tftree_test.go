package tftree

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestCopyLeavesOutWorkingFiles(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	files := map[string]string{
		"main.tf":                          "a",
		"variables.tf":                     "v",
		"versions.tf":                      "v",
		"outputs.tf":                       "o",
		"services.generated.tf":            "s",
		"k8s/x/main.tf":                    "b",
		"k8s/x/manifests/m.yaml":           "c",
		"k8s/x/.terraform/providers/p":     "no",
		"k8s/x/.terraform.lock.hcl":        "no",
		"k8s/x/terraform.tfstate":          "no",
		"k8s/x/terraform.tfstate.backup":   "no",
		"k8s/cluster/cluster.go":           "no",
		"modules-k8s/whoami/variables.tf":  "d",
		"terraform.tfvars.example":         "e",
		"internal/ignored/not-in-paths.tf": "no",
	}
	for p, c := range files {
		os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(src, p), []byte(c), 0o644)
	}
	if err := CopyRepo(src, dst, "terraform.tfvars.example"); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, rel)
		}
		return nil
	})
	sort.Strings(got)
	want := []string{"k8s/x/main.tf", "k8s/x/manifests/m.yaml", "main.tf", "modules-k8s/whoami/variables.tf", "outputs.tf", "services.generated.tf", "terraform.tfvars.example", "variables.tf", "versions.tf"}
	if len(got) != len(want) {
		t.Fatalf("copied %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("copied %v, want %v", got, want)
		}
	}
	if err := CopyRepo(src, dst, "no-such-file"); err == nil {
		t.Fatal("a missing path copied without an error")
	}
}
