// Package tftree copies the repository's Terraform configuration into
// another directory, the way an operator's fresh checkout holds it: no
// .terraform directory, no lock file, no state and no Go sources. Tests and
// scaffold's dry-run apply or render there, so nothing they do lands in the
// repository.
package tftree

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Paths are the parts of the repository that make up the root
// configuration and the modules it calls.
// services.generated.tf holds the scaffolded services' module blocks
// (internal/scaffold.GeneratedRoot).
var Paths = []string{"main.tf", "variables.tf", "versions.tf", "outputs.tf", "services.generated.tf", "k8s", "modules-k8s"}

// CopyRepo copies Paths of the repository at root into dst, plus any extra
// repository-relative paths (a file or a directory).
func CopyRepo(root, dst string, extra ...string) error {
	for _, p := range append(append([]string{}, Paths...), extra...) {
		if err := Copy(filepath.Join(root, p), filepath.Join(dst, p)); err != nil {
			return err
		}
	}
	return nil
}

// Copy copies the file or directory src to dst, leaving out what a working
// directory accumulates: .terraform directories and .terraform* files (the
// lock file), state files and Go sources.
func Copy(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(out, 0o755)
		}
		if skipped(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return fmt.Errorf("copy %s: %w", p, err)
		}
		return nil
	})
}

func skipped(name string) bool {
	return strings.HasPrefix(name, ".terraform") || strings.HasSuffix(name, ".go") || strings.Contains(name, "tfstate")
}
