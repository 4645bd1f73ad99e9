package tfrunner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeBinary(t *testing.T, dir, name, version string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	script := "#!/bin/sh\necho '{\"terraform_version\":\"" + version + "\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindBinaryOrder(t *testing.T) {
	dir := t.TempDir()
	tofu := fakeBinary(t, dir, "tofu", "1.10.0")
	tf := fakeBinary(t, dir, "terraform", "1.9.0")
	t.Setenv("PATH", dir)
	t.Setenv(BinaryEnv, "")
	if p, err := FindBinary(""); err != nil || p != tofu {
		t.Fatalf("PATH lookup = %s, %v; want tofu first", p, err)
	}
	t.Setenv(BinaryEnv, tf)
	if p, err := FindBinary(""); err != nil || p != tf {
		t.Fatalf("env = %s, %v; want %s", p, err, tf)
	}
	if p, err := FindBinary(tofu); err != nil || p != tofu {
		t.Fatalf("flag = %s, %v; want the flag to win", p, err)
	}
	if _, err := FindBinary(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "--tf-binary") {
		t.Fatalf("missing flag binary: %v", err)
	}
	t.Setenv(BinaryEnv, "")
	t.Setenv("PATH", t.TempDir())
	if _, err := FindBinary(""); err == nil || !strings.Contains(err.Error(), "neither tofu nor terraform") {
		t.Fatalf("nothing on PATH: %v", err)
	}
}

func TestOldVersionRefused(t *testing.T) {
	old := fakeBinary(t, t.TempDir(), "tofu", "1.5.7")
	_, err := New(context.Background(), Options{Dir: t.TempDir(), Binary: old, PluginCacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "1.5.7") || !strings.Contains(err.Error(), "1.6.0 or newer") {
		t.Fatalf("old binary: %v", err)
	}
}
