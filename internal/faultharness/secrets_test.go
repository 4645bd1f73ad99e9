package faultharness

import (
	"os"
	"path/filepath"
	"testing"
)

// The secret scan finds a token wherever migrate-tui could have written it
// (so its silence in the chain means something), and skips only the
// provider binaries and the copied Terraform.
func TestSecretScanFindsAPlantedToken(t *testing.T) {
	dir := t.TempDir()
	for p, body := range map[string]string{
		".migrate-tui/logs/storage.log":   "token=" + vaultToken,
		".terraform/providers/x/provider": nomadToken,
		"terraform.tfvars":                `domain = "example.org"`,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	found, err := secretsIn(dir, []string{vaultToken, nomadToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0][:len(".migrate-tui/logs/storage.log")] != ".migrate-tui/logs/storage.log" {
		t.Fatalf("found %q, want only the log", found)
	}
}
