// Package atomicfile writes a file so that a crash at any moment leaves
// either the old content or the new, never a mix: a temp file in the same
// directory, fsync, rename, then fsync of the directory.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"migrate-tui/internal/faultpoint"
)

// WriteFile replaces path with data, created with mode.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	faultpoint.Hit(faultpoint.AtomicBeforeRename)
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	ok = true
	removeLeftovers(path)
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync() // the rename is durable once the directory is synced; not every filesystem supports it
	return nil
}

// removeLeftovers deletes temp files of this path that a writer killed
// before its rename left behind (they may hold a secret-bearing state). The
// callers write one file from one process at a time (the repository lock),
// so any other temp file of the same path is a dead writer's.
func removeLeftovers(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+".tmp-*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`)
	return r.Replace(s)
}
