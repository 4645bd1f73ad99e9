// Package tfrunner drives Terraform or OpenTofu through terraform-exec: init
// with a plugin cache, plan to a saved file summarised from its JSON form,
// apply of that saved plan with live progress from the machine-readable
// stream, graceful interruption and state-lock diagnosis.
package tfrunner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// BinaryEnv names the environment variable that picks the binary when no
// --tf-binary flag is given.
const BinaryEnv = "MIGRATE_TUI_TF_BINARY"

// MinVersion is the oldest Terraform/OpenTofu release the runner supports
// (saved-plan JSON, -json apply and the UI messages it decodes).
var MinVersion = version.Must(version.NewVersion("1.6.0"))

// FindBinary resolves the binary to run: the flag value, else $MIGRATE_TUI_TF_BINARY,
// else tofu on PATH, else terraform on PATH.
func FindBinary(flag string) (string, error) {
	choice, from := flag, "--tf-binary"
	if choice == "" {
		choice, from = os.Getenv(BinaryEnv), "$"+BinaryEnv
	}
	if choice != "" {
		p, err := exec.LookPath(choice)
		if err != nil {
			return "", fmt.Errorf("%s names %q, which is not an executable file or on PATH: %w; give the path of tofu or terraform", from, choice, err)
		}
		return filepath.Abs(p)
	}
	for _, name := range []string{"tofu", "terraform"} {
		if p, err := exec.LookPath(name); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("neither tofu nor terraform is on PATH: install OpenTofu (https://opentofu.org/docs/intro/install/) or Terraform, or pass --tf-binary / set %s", BinaryEnv)
}

// Product says which tool a binary is, from its name.
func Product(path string) string {
	if strings.Contains(filepath.Base(path), "tofu") {
		return "OpenTofu"
	}
	return "Terraform"
}

// checkVersion refuses a binary older than MinVersion.
func checkVersion(ctx context.Context, tf *tfexec.Terraform, path string) (*version.Version, error) {
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("running %s version: %w", path, err)
	}
	if v.LessThan(MinVersion) {
		return v, fmt.Errorf("%s at %s is version %s; migrate-tui needs %s or newer: upgrade it or pass another with --tf-binary", Product(path), path, v, MinVersion)
	}
	return v, nil
}
