package scaffold

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// checkLitestream: sonarr's Litestream replicates into its own bucket with
// its own Vault key; the Nomad copy's bucket and key reach only the seed
// init container, which restores (reads) and never replicates.
func checkLitestream(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		switch {
		case o.GetKind() == "ConfigMap" && o.GetName() == "sonarr-litestream-seed":
			if s, _, _ := unstructured.NestedString(o.Object, "data", "litestream.yml"); !strings.Contains(s, "bucket: sonarr-litestream\n") {
				t.Errorf("the seed's config does not read the Nomad copy's bucket: %q", s)
			}
		case o.GetKind() == "ConfigMap" && strings.HasPrefix(o.GetName(), "sonarr-litestream"):
			if s, _, _ := unstructured.NestedString(o.Object, "data", "litestream.yml"); !strings.Contains(s, "bucket: sonarr-litestream-k8s\n") {
				t.Errorf("ConfigMap %s: this copy's Litestream config does not use its own bucket: %q", o.GetName(), s)
			}
		case o.GetKind() == "ExternalSecret" && o.GetName() == "sonarr-litestream-seed":
			want(t, o, "default/sonarr", "spec", "data", "0", "remoteRef", "key")
		case o.GetKind() == "ExternalSecret" && strings.HasPrefix(o.GetName(), "sonarr-litestream"):
			want(t, o, "default/sonarr-k8s", "spec", "data", "0", "remoteRef", "key")
			want(t, o, "LITESTREAM_ACCESS_KEY_ID", "spec", "data", "0", "secretKey")
		}
	}
	d := find(t, objs, "Deployment", "sonarr")
	spec := d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	for _, c := range containers(spec) {
		s := fmtJSON(c)
		if c["name"] == "litestream-seed" {
			if !strings.Contains(s, "sonarr-litestream-seed") || !strings.Contains(s, "litestream restore -config /etc/litestream-seed/litestream.yml -if-db-not-exists -if-replica-exists /config/sonarr.db") {
				t.Errorf("the seed container does not restore from the seed config with the Nomad copy's credentials: %s", s)
			}
			continue
		}
		if strings.Contains(s, "litestream-seed") {
			t.Errorf("container %v sees the Nomad copy's bucket or credentials: %s", c["name"], s)
		}
	}
}

// TestVaultGrant: a module that reads Vault names what Vault must grant it
// (its own Litestream key, the Nomad copy's for the seed, its other reads)
// and which ServiceAccounts log in; one that reads nothing has no grant.
func TestVaultGrant(t *testing.T) {
	jobs := fixtures(t)
	mod, err := Build(jobs["sonarr"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	var g vaultGrant
	if err := json.Unmarshal([]byte(mod.Files[VaultFile]), &g); err != nil {
		t.Fatalf("%s: %v\n%s", VaultFile, err, mod.Files[VaultFile])
	}
	// The own key is the root's to fill in (services[sonarr].litestream_vault_key, else the default).
	for _, p := range []string{`path "nomad/data/` + lsKeySentinel + `"`, `path "nomad/data/default/sonarr"`} {
		if !strings.Contains(g.Policy, p) {
			t.Errorf("policy lacks %s:\n%s", p, g.Policy)
		}
	}
	if g.LitestreamVaultKey != "default/sonarr-k8s" {
		t.Errorf("litestream_vault_key default in the grant = %q, want default/sonarr-k8s", g.LitestreamVaultKey)
	}
	if !reflect.DeepEqual(g.ServiceAccounts, []string{"sonarr"}) {
		t.Errorf("service_accounts = %v, want [sonarr]", g.ServiceAccounts)
	}
	mod, err = Build(jobs["jellyfin"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := mod.Files[VaultFile]; ok {
		t.Errorf("jellyfin reads no Vault secret but got a grant:\n%s", s)
	}
}

// TestLitestreamRefusesNomadCopy: the module refuses to be pointed at the
// Nomad copy's bucket or Vault key, and with seed_bucket empty the seed
// init container does nothing.
func TestLitestreamRefusesNomadCopy(t *testing.T) {
	if world == nil {
		t.Skip("needs tofu and the test world (not -short)")
	}
	md := stageFixture(t, "sonarr", Options{})
	tf := newTofu(t)
	in := func(vars map[string]string) Inputs {
		return Inputs{Namespace: "poc", IngressMode: "none", ServiceMesh: "none", ClusterCIDR: "10.42.0.0/16", LANCIDR: "192.168.1.0/24",
			StorageBackend: "local-path", VaultMethod: "external-secrets", Vars: vars}
	}
	for k, v := range map[string]string{"litestream_bucket": "sonarr-litestream", "litestream_vault_key": "default/sonarr"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		_, err := tf.Render(ctx, md, in(map[string]string{k: v}))
		cancel()
		if err == nil || !strings.Contains(oneLine(err.Error()), "(the Nomad copy's") {
			t.Errorf("%s = %q (the Nomad copy's) was accepted or refused for another reason: %v", k, v, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := tf.Render(ctx, md, in(map[string]string{"seed_bucket": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `[ -n "" ] || exit 0`) {
		t.Errorf("with seed_bucket empty the seed container does not exit at once:\n%s", out)
	}
}
