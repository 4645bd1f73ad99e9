package litestream_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestOverseerrVolumeClaimTemplatesCarryNoVersion: a StatefulSet's
// volumeClaimTemplates cannot change after creation (k8s.io/kubernetes
// pkg/apis/apps/validation ValidateStatefulSetUpdate: only replicas,
// template, updateStrategy, ordinals, minReadySeconds and the PVC retention
// policy may), so a version label there would make the next version bump
// fail to apply. The pod template keeps it.
func TestOverseerrVolumeClaimTemplatesCarryNoVersion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	vars := moduleVars("0.5")
	vars["local_storage_class"] = "local-path"
	r := renderOverseerr(t, ctx, vars)
	vcts := r.sts.Spec.VolumeClaimTemplates
	if len(vcts) == 0 {
		t.Fatal("no volumeClaimTemplates rendered with local_storage_class local-path")
	}
	for _, v := range vcts {
		for k := range v.Labels {
			if strings.Contains(k, "version") {
				t.Errorf("volumeClaimTemplate %s carries label %s=%s: immutable, it blocks the next version bump", v.Name, k, v.Labels[k])
			}
		}
		if v.Labels["app.kubernetes.io/name"] != "overseerr" {
			t.Errorf("volumeClaimTemplate %s lost its name label: %v", v.Name, v.Labels)
		}
	}
	if r.sts.Spec.Template.Labels["app.kubernetes.io/version"] == "" {
		t.Error("the pod template lost its version label")
	}
}

// TestOverseerrSecretsMapOntoLitestreamNames: the ExternalSecret maps the
// Vault keys MINIO_ACCESS_KEY / MINIO_SECRET_KEY explicitly onto the names
// Litestream reads (LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY:
// cmd/litestream applyLitestreamEnv in v0.3.13 and v0.5.18), from the copy's
// own Vault key, and the Nomad job's only for the read-only seed.
func TestOverseerrSecretsMapOntoLitestreamNames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := renderOverseerr(t, ctx, moduleVars("0.5"))
	spec, _ := r.extSecret["spec"].(map[string]any)
	if _, ok := spec["dataFrom"]; ok {
		t.Error("the ExternalSecret uses dataFrom: it would export the Vault keys' own names, which Litestream ignores")
	}
	got := map[string]string{}
	data, _ := spec["data"].([]any)
	for _, d := range data {
		m := d.(map[string]any)
		rr := m["remoteRef"].(map[string]any)
		got[m["secretKey"].(string)] = rr["key"].(string) + "#" + rr["property"].(string)
	}
	want := map[string]string{
		"LITESTREAM_ACCESS_KEY_ID":           "default/overseerr-k8s#MINIO_ACCESS_KEY",
		"LITESTREAM_SECRET_ACCESS_KEY":       "default/overseerr-k8s#MINIO_SECRET_KEY",
		"NOMAD_LITESTREAM_ACCESS_KEY_ID":     "default/overseerr#MINIO_ACCESS_KEY",
		"NOMAD_LITESTREAM_SECRET_ACCESS_KEY": "default/overseerr#MINIO_SECRET_KEY",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Secret key %s comes from %q, want %q", k, got[k], v)
		}
	}
	cfg := r.configMap.Data["litestream.yml"]
	if !strings.Contains(cfg, `bucket: "`+kubeBucket+`"`) || !strings.Contains(cfg, `endpoint: "`+s3.Endpoint+`"`) {
		t.Errorf("litestream.yml does not quote its bucket and endpoint:\n%s", cfg)
	}
	if strings.Contains(cfg, nomadBucket+`"`) {
		t.Errorf("litestream.yml (the replicate config) names the Nomad bucket:\n%s", cfg)
	}
}
