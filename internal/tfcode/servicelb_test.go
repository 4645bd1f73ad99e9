package tfcode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/tlssecret/tlstest"
)

// main.tf's precondition on k3s_disable and the wizard's cross-checks agree
// for every ingress mode and every choice of traefik/servicelb: a
// combination `tofu plan` refuses is one the wizard refuses, and the other
// way round (a hand-edited terraform.tfvars gets the same answer as the
// wizard). The other cross-checks are kept quiet: the nodes are not the
// homelab's, so the bundled-traefik clash with Hestia does not apply.
func TestIngressComponentsAgreeWithWizard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := copyConfig(t)
	tf := newTofu(t, dir)
	tf.must(t, ctx, "init", "-input=false", "-no-color")
	ids := []string{"bundled-traefik-disabled", "packaged-traefik-must-be-off"}
	for _, mode := range []string{"traefik-behind-external", "bundled-traefik", "external-direct"} {
		for _, disable := range [][]string{{}, {"traefik"}, {"servicelb"}, {"traefik", "servicelb"}} {
			t.Run(fmt.Sprintf("%s/%s", mode, strings.Join(disable, "+")), func(t *testing.T) {
				var refused []string
				for _, c := range decisions.Check(decisions.Answers{"ingress_mode": mode, "k3s_disable": disable}, decisions.Context{}) {
					if slices.Contains(ids, c.ID) {
						refused = append(refused, c.ID)
					}
				}
				vars := map[string]any{"kubeconfig_path": world.Kubeconfig, "enabled_stages": []string{},
					"ingress_mode": mode, "k3s_disable": disable}
				b, _ := json.Marshal(vars)
				file := filepath.Join(dir, "case-"+strings.ReplaceAll(t.Name(), "/", "_")+".tfvars.json")
				if err := os.WriteFile(file, b, 0o644); err != nil {
					t.Fatal(err)
				}
				code, out, err := tf.run(ctx, "plan", "-input=false", "-no-color", "-var-file=terraform.tfvars.example", "-var-file="+file)
				if err != nil {
					t.Fatal(err)
				}
				planRefused := code != 0
				if planRefused && !strings.Contains(out, "k3s_disable") {
					t.Fatalf("plan failed for another reason:\n%s", tail(out, 3000))
				}
				if planRefused != (len(refused) > 0) {
					t.Fatalf("tofu plan refused=%v, wizard refused=%v %v\n%s", planRefused, len(refused) > 0, refused, tail(out, 3000))
				}
			})
		}
	}
}

// vault_ca_file with the agent injector: main.tf's precondition and the
// wizard's cross-check refuse the same pairs (a hand-edited tfvars gets the
// wizard's answer).
func TestVaultCAAgreesWithWizard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := copyConfig(t)
	tf := newTofu(t, dir)
	tf.must(t, ctx, "init", "-input=false", "-no-color")
	ca := filepath.Join(dir, "vault-ca.pem")
	if err := os.WriteFile(ca, tlstest.Valid(t, "service.consul").ChainPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"external-secrets", "agent-injector"} {
		for _, file := range []string{"", ca} {
			t.Run(fmt.Sprintf("%s/ca=%v", method, file != ""), func(t *testing.T) {
				wizard := false
				for _, c := range decisions.Check(decisions.Answers{"vault_method": method, "vault_ca_file": file}, decisions.Context{}) {
					wizard = wizard || c.ID == "vault-ca-needs-eso"
				}
				b, _ := json.Marshal(map[string]any{"kubeconfig_path": world.Kubeconfig, "enabled_stages": []string{},
					"vault_method": method, "vault_ca_file": file})
				vf := filepath.Join(dir, "case-"+strings.ReplaceAll(t.Name(), "/", "_")+".tfvars.json")
				if err := os.WriteFile(vf, b, 0o644); err != nil {
					t.Fatal(err)
				}
				code, out, err := tf.run(ctx, "plan", "-input=false", "-no-color", "-var-file=terraform.tfvars.example", "-var-file="+vf)
				if err != nil {
					t.Fatal(err)
				}
				planRefused := code != 0
				if planRefused && !strings.Contains(out, "vault_ca_file") {
					t.Fatalf("plan failed for another reason:\n%s", tail(out, 3000))
				}
				if planRefused != wizard {
					t.Fatalf("tofu plan refused=%v, wizard refused=%v\n%s", planRefused, wizard, tail(out, 3000))
				}
			})
		}
	}
}
