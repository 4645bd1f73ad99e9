package connect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"migrate-tui/internal/state"
	"migrate-tui/internal/tfvars"
)

// The one kubeconfig precedence: flag, then kubeconfig_path in
// terraform.tfvars, then $KUBECONFIG, then the variables.tf default.
func TestKubeconfigPrecedence(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory:", err)
	}
	for _, tc := range []struct {
		name, flag, tfvars, env string
		want                    string
		from                    Source
	}{
		{"flag beats everything", "/flag/kc", `kubeconfig_path = "/tfvars/kc"`, "/env/kc", "/flag/kc", FromFlag},
		{"tfvars beats the environment", "", `kubeconfig_path = "/tfvars/kc"`, "/env/kc", "/tfvars/kc", FromTfvars},
		{"tfvars with ~/ expanded", "", `kubeconfig_path = "~/k3s.yaml"`, "", filepath.Join(home, "k3s.yaml"), FromTfvars},
		{"environment when tfvars sets none", "", `domain = "example.test"`, "/env/kc", "/env/kc", FromEnv},
		{"environment when there is no tfvars", "", "", "/env/a:/env/b", "/env/a:/env/b", FromEnv},
		{"default last", "", `domain = "example.test"`, "", filepath.Join(home, ".kube", "k3s-poc.yaml"), FromDefault},
		{"flag with ~/ expanded", "~/flag.yaml", "", "/env/kc", filepath.Join(home, "flag.yaml"), FromFlag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.tfvars != "" {
				if err := os.WriteFile(filepath.Join(dir, tfvars.FileName), []byte(tc.tfvars+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("KUBECONFIG", tc.env)
			got, err := ResolveKubeconfig(tc.flag, dir)
			if err != nil || got.Path != tc.want || got.Source != tc.from {
				t.Fatalf("ResolveKubeconfig = %+v, %v; want %s from %s", got, err, tc.want, tc.from)
			}
		})
	}
}

// A kubeconfig_path that is not a string is an error naming the key, not a
// silent step to $KUBECONFIG (another cluster).
func TestKubeconfigBadTfvars(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, tfvars.FileName), []byte("kubeconfig_path = 1\n"), 0o600)
	t.Setenv("KUBECONFIG", "/env/kc")
	_, err := ResolveKubeconfig("", dir)
	var te *tfvars.TypeError
	if !errors.As(err, &te) || te.Key != "kubeconfig_path" {
		t.Fatalf("kubeconfig_path = 1: %v", err)
	}
}

// The stages apply with Terraform, which never reads $KUBECONFIG: they
// refuse a kubeconfig only $KUBECONFIG names, and take the others.
func TestTerraformKubeconfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", "/env/kc")
	_, err := TerraformKubeconfig(dir)
	var nt *NotTerraformsError
	if !errors.As(err, &nt) || !strings.Contains(err.Error(), "migrate-tui decide --set kubeconfig_path=") {
		t.Fatalf("only $KUBECONFIG: %v", err)
	}
	os.WriteFile(filepath.Join(dir, tfvars.FileName), []byte("kubeconfig_path = \"/tfvars/kc\"\n"), 0o600)
	if k, err := TerraformKubeconfig(dir); err != nil || k.Path != "/tfvars/kc" {
		t.Fatalf("with kubeconfig_path: %+v, %v", k, err)
	}
	t.Setenv("KUBECONFIG", "")
	os.Remove(filepath.Join(dir, tfvars.FileName))
	if k, err := TerraformKubeconfig(dir); err != nil || k.Source != FromDefault {
		t.Fatalf("nothing set (Terraform's default too): %+v, %v", k, err)
	}
}

// A kubeconfig that is not there says which file, from where, and the
// precedence.
func TestRESTConfigMissing(t *testing.T) {
	k := Kubeconfig{Path: filepath.Join(t.TempDir(), "nope"), Source: FromTfvars}
	_, err := k.RESTConfig(0)
	var nk *NoKubeconfigError
	if !errors.As(err, &nk) || !strings.Contains(err.Error(), k.Path) || !strings.Contains(err.Error(), string(FromTfvars)) ||
		!strings.Contains(err.Error(), KubeconfigPrecedence) {
		t.Fatalf("missing kubeconfig: %v", err)
	}
	// A path named outright (--kubeconfig, or the cluster to adopt) is not
	// sent looking through the precedence.
	for _, src := range []Source{FromFlag, Named} {
		k := Kubeconfig{Path: filepath.Join(t.TempDir(), "given"), Source: src}
		_, err := k.RESTConfig(0)
		if !errors.As(err, &nk) || !strings.Contains(err.Error(), k.Path) || strings.Contains(err.Error(), "run the cluster stage") {
			t.Errorf("missing %s kubeconfig: %v", src, err)
		}
	}
	k = Kubeconfig{Path: "/env/a:/env/b", Source: FromEnv}
	if _, err := k.RESTConfig(0); !errors.As(err, &nk) {
		t.Fatalf("missing $KUBECONFIG list: %v", err)
	}
}

func TestNomadPrecedence(t *testing.T) {
	recorded := &state.State{Preflight: &state.Preflight{NomadAddr: "http://recorded:4646"}}
	for _, tc := range []struct {
		name, flag, env string
		st              *state.State
		want            string
	}{
		{"flag", "http://flag:4646", "http://env:4646", recorded, "http://flag:4646"},
		{"environment", "", "http://env:4646", recorded, "http://env:4646"},
		{"recorded by preflight", "", "", recorded, "http://recorded:4646"},
		{"Nomad's default", "", "", nil, ""},
		{"no preflight yet", "", "", &state.State{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NOMAD_ADDR", tc.env)
			if got := NomadAddr(tc.flag, tc.st); got != tc.want {
				t.Fatalf("NomadAddr = %q, want %q", got, tc.want)
			}
		})
	}
	// The client talks to the resolved address with the environment's token.
	var token atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token.Store(r.Header.Get("X-Nomad-Token"))
		w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("NOMAD_ADDR", "")
	t.Setenv("NOMAD_TOKEN", "from-env")
	c, err := Nomad("", &state.State{Preflight: &state.Preflight{NomadAddr: srv.URL}})
	if err != nil || c.Address() != srv.URL {
		t.Fatalf("Nomad client: %v", err)
	}
	_ = c.Ping(context.Background())
	if got, _ := token.Load().(string); got != "from-env" {
		t.Fatalf("Nomad saw token %q, want $NOMAD_TOKEN's", got)
	}
}

func TestVaultNeedsAToken(t *testing.T) {
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:8200")
	t.Setenv("VAULT_TOKEN", "")
	if _, err := Vault(); !errors.Is(err, ErrNoVaultToken) {
		t.Fatalf("no token: %v", err)
	}
	if VaultConfigured() {
		t.Fatal("VaultConfigured without a token")
	}
	t.Setenv("VAULT_TOKEN", "t")
	if vc, err := Vault(); err != nil || vc.Token() != "t" || vc.Address() != "http://127.0.0.1:8200" {
		t.Fatalf("with a token: %v", err)
	}
}

// Every help sentence is built from the precedence constants, so they
// cannot drift apart.
func TestHelpSaysThePrecedence(t *testing.T) {
	if !strings.Contains(KubeconfigHelp, KubeconfigPrecedence) || !strings.Contains(NomadAddrHelp, NomadPrecedence) {
		t.Fatal("help strings do not carry the precedence")
	}
	for _, want := range []string{"--kubeconfig", "kubeconfig_path", "$KUBECONFIG", "~/.kube/k3s-poc.yaml"} {
		if !strings.Contains(KubeconfigPrecedence, want) {
			t.Errorf("KubeconfigPrecedence lacks %s", want)
		}
	}
	if i, j := strings.Index(KubeconfigPrecedence, "kubeconfig_path"), strings.Index(KubeconfigPrecedence, "$KUBECONFIG"); i > j {
		t.Error("KubeconfigPrecedence says $KUBECONFIG before kubeconfig_path, unlike ResolveKubeconfig")
	}
}
