package testworld

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"migrate-tui/internal/testtools"
)

// Litestream binaries: hack/bootstrap.sh installs each pinned version as
// litestream-MAJOR.MINOR (litestream-0.5, litestream-0.3), so both sit side
// by side.

// LitestreamBin is the binary standing in for the image tag tag
// (litestream/litestream:0.5, :0.5.18 or :0.3.13 → litestream-0.5 or -0.3).
func LitestreamBin(tag string) (string, error) {
	parts := strings.SplitN(strings.TrimPrefix(tag, "v"), ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("litestream image tag %q is not MAJOR.MINOR[.PATCH]", tag)
	}
	return testtools.Bin("litestream-" + parts[0] + "." + parts[1])
}

// LitestreamPath makes a directory in dir whose `litestream` is the binary
// for tag, to put first in PATH when running a container's command as the
// image would (its entrypoint finds `litestream` on PATH).
func LitestreamPath(dir, tag string) (string, error) {
	bin, err := LitestreamBin(tag)
	if err != nil {
		return "", err
	}
	d := filepath.Join(dir, "litestream-"+tag+"-path")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	link := filepath.Join(d, "litestream")
	_ = os.Remove(link)
	if err := os.Symlink(bin, link); err != nil {
		return "", err
	}
	return d, nil
}
