package scaffold

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// ExistsError: the module directory is there already and --force was not
// given.
type ExistsError struct{ Dir string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists; not overwriting it. Pass --force to regenerate it (your edits there are lost), or --service to name the module differently", e.Dir)
}

// Write writes the module to repo/modules-k8s/<service>.
func (mod *Module) Write(repo string, force bool) (string, error) {
	dir := filepath.Join(repo, "modules-k8s", mod.Service)
	if _, err := os.Stat(dir); err == nil && !force {
		return dir, &ExistsError{Dir: dir}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return dir, err
	}
	if force {
		// Stale manifests of a former scaffold (a group since removed)
		// would otherwise linger; only the manifests directory is ours.
		if err := os.RemoveAll(filepath.Join(dir, "manifests")); err != nil {
			return dir, err
		}
		// A job that no longer reads Vault must not keep its grant.
		if err := os.Remove(filepath.Join(dir, VaultFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return dir, err
		}
	}
	return dir, mod.writeFiles(dir)
}

func (mod *Module) writeFiles(dir string) error {
	names := make([]string, 0, len(mod.Files))
	for n := range mod.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(mod.Files[n]), 0o644); err != nil {
			return err
		}
	}
	return nil
}
