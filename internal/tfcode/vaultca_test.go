package tfcode

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// selfSignedCA returns a PEM CA certificate (only the certificate: a CA
// certificate is public, the key is thrown away).
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "homelab private CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestVaultStageAloneBringsDNSAndTrustsVaultsCA: applying only the vault
// stage (ESO) with vault_ca_file set creates the .consul forwarding the
// ClusterSecretStore needs to reach vault.service.consul (it no longer waits
// for the ingress stage), puts the CA file's content into the ConfigMap
// external-secrets/vault-ca, and points the store's caProvider at it; the
// API server accepts the store against ESO's own CRD schema.
func TestVaultStageAloneBringsDNSAndTrustsVaultsCA(t *testing.T) {
	if world == nil {
		t.Fatal("no test world (TestMain)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := copyConfig(t)
	ca := selfSignedCA(t)
	caFile := filepath.Join(t.TempDir(), "vault-ca.pem")
	if err := os.WriteFile(caFile, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	vars, _ := json.Marshal(map[string]any{
		"kubeconfig_path": world.Kubeconfig,
		"enabled_stages":  []string{"vault"},
		"vault_method":    "external-secrets",
		"vault_ca_file":   caFile,
	})
	if err := os.WriteFile(filepath.Join(dir, "vaultca.tfvars.json"), vars, 0o644); err != nil {
		t.Fatal(err)
	}
	varArgs := []string{"-var-file=terraform.tfvars.example", "-var-file=vaultca.tfvars.json"}
	tf := newTofu(t, dir)
	tf.must(t, ctx, "init", "-input=false", "-no-color")
	t.Cleanup(func() {
		_, _, _ = tf.run(context.Background(), append([]string{"destroy", "-auto-approve", "-no-color"}, varArgs...)...)
	})
	tf.must(t, ctx, append([]string{"apply", "-auto-approve", "-no-color"}, varArgs...)...)
	objs := stateObjects(t, ctx, tf)
	checkWanted(t, objs, []string{"ConfigMap/kube-system/coredns-custom", "ConfigMap/external-secrets/vault-ca", "ClusterSecretStore//vault"}, []string{"IngressRoute", "TLSStore"})

	cm, err := world.Client.CoreV1().ConfigMaps("external-secrets").Get(ctx, "vault-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ConfigMap external-secrets/vault-ca: %v", err)
	}
	if cm.Data["ca.crt"] != string(ca) {
		t.Errorf("vault-ca ca.crt is not the content of vault_ca_file:\n%s", cm.Data["ca.crt"])
	}
	store := find(objs, "ClusterSecretStore//vault")
	want := map[string]any{"type": "ConfigMap", "name": "vault-ca", "key": "ca.crt", "namespace": "external-secrets"}
	if got := nested(store.obj, "spec", "provider", "vault", "caProvider"); !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterSecretStore vault caProvider = %v, want %v", got, want)
	}
}
