// Package testtools finds the pinned test tools that hack/bootstrap.sh builds
// and the module sources (CRDs, KWOK stages) they come with.
package testtools

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	migratetui "migrate-tui"
)

// BootstrapHint is what to run when a tool is missing.
const BootstrapHint = "run hack/bootstrap.sh (it builds the pinned test tools into $MIGRATE_TUI_TOOLS or ~/.cache/migrate-tui/tools)"

// Dir is the tools cache: $MIGRATE_TUI_TOOLS, else ~/.cache/migrate-tui/tools.
func Dir() string {
	if d := os.Getenv("MIGRATE_TUI_TOOLS"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "migrate-tui", "tools")
}

// Bin returns the path of a built tool (etcd, kube-apiserver, tofu, kwok,
// ...), or an error that says how to build it. etcd too comes from the tools
// directory, never PATH: kube-apiserver 1.34 serves watch-list only on an
// etcd >= 3.5.13 (k8s.io/apiserver pkg/storage/feature), which Debian's 3.4
// is not.
func Bin(name string) (string, error) {
	p := filepath.Join(Dir(), "bin", name)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("test tool %s not found at %s: %s", name, p, BootstrapHint)
	}
	return p, nil
}

// ProviderMirror is the filesystem mirror holding the kubectl provider.
func ProviderMirror() (string, error) {
	p := filepath.Join(Dir(), "mirror")
	if _, err := os.Stat(filepath.Join(p, "registry.opentofu.org", "gavinbunney", "kubectl")); err != nil {
		return "", fmt.Errorf("kubectl provider mirror not found under %s: %s", p, BootstrapHint)
	}
	return p, nil
}

// WriteCLIConfig writes a Terraform/OpenTofu CLI config into dir that installs
// providers only from the test mirror, and returns its path. Set it as
// TF_CLI_CONFIG_FILE (this machine's environment sets its own).
func WriteCLIConfig(dir string) (string, error) {
	mirror, err := ProviderMirror()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "tofu.rc")
	body := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", mirror)
	return p, os.WriteFile(p, []byte(body), 0o644)
}

var (
	versionsOnce sync.Once
	versions     map[string]string
	versionsErr  error
)

// Versions parses hack/versions.env (embedded at build time), the one place
// the pins are recorded.
func Versions() (map[string]string, error) {
	versionsOnce.Do(func() {
		versions = map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(migratetui.VersionsEnv))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if ok {
				versions[k] = v
			}
		}
		versionsErr = sc.Err()
	})
	return versions, versionsErr
}

// Version returns one pin from hack/versions.env.
func Version(key string) (string, error) {
	v, err := Versions()
	if err != nil {
		return "", err
	}
	s, ok := v[key]
	if !ok {
		return "", fmt.Errorf("hack/versions.env has no %s", key)
	}
	return s, nil
}

// RepoRoot walks up from the working directory to the directory with go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ModuleDir returns the module cache directory of module@version, downloading
// it from the Go module proxy when needed (hack/bootstrap.sh pre-fetches them).
func ModuleDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v: %s", module, version, err, out)
	}
	var d struct{ Dir, Error string }
	if err := json.Unmarshal(out, &d); err != nil {
		return "", err
	}
	if d.Error != "" || d.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, d.Error)
	}
	return d.Dir, nil
}
