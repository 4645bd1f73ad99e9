package helmrender

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"migrate-tui/internal/tftree"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/tfrunner/tftest"
)

// stageVars are the values the stage modules get in these tests: the
// homelab's defaults (terraform.tfvars.example) where main.tf passes a
// variable through. A case overrides the decision it is about.
var stageVars = map[string]string{
	"vault_method":            "external-secrets",
	"vault_address":           "https://vault.service.consul:8200",
	"vault_kv_mount":          "kv",
	"vault_auth_mount":        "kubernetes",
	"vpa_update_mode":         "Off",
	"service_mesh":            "linkerd",
	"cilium_ipam_mode":        "kubernetes",
	"cilium_pool_cidr":        "10.0.0.0/16",
	"cluster_cidr":            "10.42.0.0/16",
	"api_host":                "192.168.1.5",
	"storage_backend":         "local-path",
	"glusterfs_mount_root":    "/storage/v",
	"nfs_server":              "192.168.1.5",
	"nfs_path":                "/gv0",
	"node_count":              "3",
	"ingress_mode":            "traefik-behind-external",
	"traefik_http_node_port":  "32080",
	"traefik_https_node_port": "32443",
	"tls_secret_name":         "wildcard-tls",
	"consul_dns_servers":      `["192.168.1.5", "192.168.1.6", "192.168.1.7"]`,
}

var (
	varBlock   = regexp.MustCompile(`(?m)^variable\s+"([^"]+)"\s*\{`)
	hasDefault = regexp.MustCompile(`(?m)^\s*default\s*=`)
)

// declaredVars reads a module's variables and whether each has a default.
func declaredVars(t testing.TB, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		locs := varBlock.FindAllStringSubmatchIndex(s, -1)
		for i, l := range locs {
			end := len(s)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			out[s[l[2]:l[3]]] = hasDefault.MatchString(s[l[1]:end])
		}
	}
	return out
}

// stageStreams returns a stage module's local.rendered, the manifest streams
// the stage applies, as OpenTofu evaluates them: the pinned tofu runs
// `console` in a copy of k8s/ (providers from the test mirror).
func stageStreams(t testing.TB, stage string, override map[string]string) []string {
	t.Helper()
	out := tofuConsole(t, stage, override, "base64encode(jsonencode(local.rendered))")
	b, err := base64.StdEncoding.DecodeString(out)
	if err != nil {
		t.Fatalf("tofu console output for %s is not base64: %v\n%s", stage, err, out)
	}
	var streams []string
	if err := json.Unmarshal(b, &streams); err != nil {
		t.Fatalf("local.rendered of %s: %v", stage, err)
	}
	return streams
}

// tofuConsole evaluates one expression in a stage module (a path under the
// repository, like k8s/core/vpa) and returns the printed value unquoted.
func tofuConsole(t testing.TB, stage string, override map[string]string, expr string) string {
	t.Helper()
	tf, args := consoleIn(t, stage, override)
	out := tf.mustIn(t, expr+"\n", args...)
	s := strings.TrimSpace(out)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		s = s[i+1:]
	}
	return strings.Trim(s, `"`)
}

// consoleIn copies k8s/ and modules-k8s/ out of the repository, runs tofu
// init in the stage's copy and returns the tofu there with the console's
// arguments (the stage's -var flags).
func consoleIn(t testing.TB, stage string, override map[string]string) (*tofu, []string) {
	t.Helper()
	root, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "config")
	for _, p := range []string{"k8s", "modules-k8s"} {
		copyTree(t, filepath.Join(root, p), filepath.Join(dst, p))
	}
	dir := filepath.Join(dst, stage)
	args := append([]string{"console", "-no-color"}, varArgs(t, dir, override)...)
	tf := newTofu(t, dir)
	tf.must(t, "init", "-backend=false", "-input=false", "-no-color")
	return tf, args
}

type tofu struct {
	bin, dir string
	env      []string
}

func newTofu(t testing.TB, dir string) *tofu {
	t.Helper()
	env := append(tftest.CLIEnv(t, pluginCache), "TF_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	return &tofu{bin: tftest.Tofu(t), dir: dir, env: env}
}

func (tf *tofu) must(t testing.TB, args ...string) string { return tf.mustIn(t, "", args...) }

func (tf *tofu) mustIn(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), tf.bin, args...)
	cmd.Dir, cmd.Env = tf.dir, tf.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tofu %s in %s: %v\n%s%s", strings.Join(args, " "), tf.dir, err, out.String(), errb.String())
	}
	return out.String()
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	if err := tftree.Copy(src, dst); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// tofuConsoleMayFail is tofuConsole for an evaluation expected to fail: it
// returns the combined output and whether tofu succeeded.
func tofuConsoleMayFail(t testing.TB, stage string, override map[string]string, expr string) (string, bool) {
	t.Helper()
	tf, args := consoleIn(t, stage, override)
	cmd := exec.Command(tf.bin, args...)
	cmd.Dir, cmd.Env = tf.dir, tf.env
	cmd.Stdin = strings.NewReader(expr + "\n")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// varArgs are the -var arguments for the variables a module declares:
// stageVars with the case's overrides.
func varArgs(t testing.TB, dir string, override map[string]string) []string {
	t.Helper()
	vars := map[string]string{}
	for k, v := range stageVars {
		vars[k] = v
	}
	for k, v := range override {
		vars[k] = v
	}
	declared := declaredVars(t, dir)
	names := make([]string, 0, len(declared))
	for n := range declared {
		names = append(names, n)
	}
	sort.Strings(names)
	var args []string
	for _, n := range names {
		v, ok := vars[n]
		if !ok {
			if !declared[n] {
				t.Fatalf("%s declares variable %q without a default: give it a test value in stageVars", dir, n)
			}
			continue
		}
		args = append(args, "-var", n+"="+v)
	}
	return args
}
