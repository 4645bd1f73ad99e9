package vaultsetup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/testworld"
	"migrate-tui/internal/vaultsim"
)

var world *testworld.World

func TestMain(m *testing.M) {
	w, err := testworld.Start(context.Background(), testworld.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "vaultsetup tests need the test world:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	w.Stop()
	os.Exit(code)
}

const reviewerJWT = "eyJhbGciOiJSUzI1NiJ9.reviewer-secret-token.sig"

func setup(t *testing.T) (*vaultsim.Server, *api.Client, Config) {
	t.Helper()
	ns := world.Namespace(t)
	_, err := world.Client.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "vault-token-reviewer-token"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"token": []byte(reviewerJWT), "ca.crt": []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sim := vaultsim.New("root-token")
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cfg := api.DefaultConfig()
	cfg.Address = sim.URL()
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken("root-token")
	// The same shape main.tf's outputs have.
	outputs := map[string]json.RawMessage{
		"vault_token_reviewer": json.RawMessage(fmt.Sprintf(`{"namespace":%q,"service_account":"vault-token-reviewer","secret":"vault-token-reviewer-token","auth_mount":"kubernetes-k3s"}`, ns)),
		"vault_policies":       json.RawMessage(`{"poc-whoami":"path \"nomad/data/default/whoami\" {\n  capabilities = [\"read\"]\n}\n","poc-echo":"path \"nomad/data/default/echo\" {\n  capabilities = [\"read\"]\n}\n"}`),
		"vault_roles":          json.RawMessage(`{"external-secrets":{"service_accounts":["external-secrets"],"namespaces":["external-secrets"],"policies":["poc-echo","poc-whoami"]}}`),
	}
	conf, err := ConfigFromOutputs(outputs, "https://192.168.1.5:6443")
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, conf
}

func TestApplyIsIdempotentAndNeverPrintsTheToken(t *testing.T) {
	sim, c, conf := setup(t)
	ctx := context.Background()
	var log bytes.Buffer

	changes, err := Apply(ctx, FromClient(c), world.Client, conf, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 5 { // mount, config, 2 policies, 1 role
		t.Fatalf("first run changes = %q, want 5", changes)
	}
	cfg := sim.AuthConfig("kubernetes-k3s")
	if cfg["token_reviewer_jwt"] != reviewerJWT || cfg["kubernetes_host"] != "https://192.168.1.5:6443" || !strings.Contains(cfg["kubernetes_ca_cert"].(string), "CA") {
		t.Fatalf("auth config = %v", cfg)
	}
	if p, ok := sim.Policy("poc-whoami"); !ok || !strings.Contains(p, "nomad/data/default/whoami") {
		t.Fatalf("policy poc-whoami = %q", p)
	}
	role := sim.Role("kubernetes-k3s", "external-secrets")
	if fmt.Sprint(role["token_policies"]) != "[poc-echo poc-whoami]" || fmt.Sprint(role["bound_service_account_names"]) != "[external-secrets]" {
		t.Fatalf("role = %v", role)
	}

	writes := len(sim.Writes())
	changes, err = Apply(ctx, FromClient(c), world.Client, conf, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 || len(sim.Writes()) != writes {
		t.Fatalf("second run changed %q and wrote %v, want nothing", changes, sim.Writes()[writes:])
	}
	if strings.Contains(log.String(), reviewerJWT) || strings.Contains(strings.Join(changes, " "), reviewerJWT) {
		t.Fatalf("the reviewer token was printed:\n%s", log.String())
	}

	// A changed policy is written again, and only it.
	conf.Policies["poc-echo"] = "path \"nomad/data/default/echo\" {\n  capabilities = [\"read\", \"list\"]\n}\n"
	changes, err = Apply(ctx, FromClient(c), world.Client, conf, nil)
	if err != nil || len(changes) != 1 || changes[0] != "wrote policy poc-echo" {
		t.Fatalf("after a policy change: %q, %v", changes, err)
	}
}

func TestErrorsNameTheProblem(t *testing.T) {
	_, c, conf := setup(t)
	ctx := context.Background()
	bad, _ := c.Clone()
	bad.SetToken("wrong")
	_, err := Apply(ctx, FromClient(bad), world.Client, conf, nil)
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "VAULT_TOKEN") {
		t.Fatalf("wrong token: %v", err)
	}
	conf.TokenReviewer.Name = "missing"
	_, err = Apply(ctx, FromClient(c), world.Client, conf, nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing Secret: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), reviewerJWT) {
		t.Fatal("token in the error")
	}
}

func TestKVv2ReadThroughTheSimulator(t *testing.T) {
	sim, c, _ := setup(t)
	sim.PutKV("nomad", "default/overseerr", map[string]any{"api_key": "k"})
	s, err := c.KVv2("nomad").Get(context.Background(), "default/overseerr")
	if err != nil || s.Data["api_key"] != "k" {
		t.Fatalf("kv get = %+v, %v", s, err)
	}
	if _, err := c.KVv2("nomad").Get(context.Background(), "default/absent"); err == nil {
		t.Fatal("reading an absent secret did not fail")
	}
}
