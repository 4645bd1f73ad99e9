package litestream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// TestOverseerrVersionBumpApplies: the StatefulSet rendered for the next
// Overseerr version updates in place on a real API server (the version
// label lives only where it may change); the control, the same StatefulSet
// with the version label in its volumeClaimTemplates as before, is refused
// by the API server, so this test fails on that defect.
func TestOverseerrVersionBumpApplies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	vars := moduleVars("0.5")
	vars["local_storage_class"] = "local-path"
	r := renderOverseerr(t, ctx, vars)
	version := r.sts.Spec.Template.Labels["app.kubernetes.io/version"]
	// The next version's render differs exactly in that label's value.
	bump := func(labels map[string]string) {
		if _, ok := labels["app.kubernetes.io/version"]; ok {
			labels["app.kubernetes.io/version"] = version + "-next"
		}
	}
	apply := func(t *testing.T, sts *appsv1.StatefulSet) error {
		t.Helper()
		ns := world.Namespace(t)
		sts.Namespace = ns
		created, err := world.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create the rendered StatefulSet: %v", err)
		}
		next := created.DeepCopy()
		bump(next.Labels)
		bump(next.Spec.Template.Labels)
		for i := range next.Spec.VolumeClaimTemplates {
			bump(next.Spec.VolumeClaimTemplates[i].Labels)
		}
		_, err = world.Client.AppsV1().StatefulSets(ns).Update(ctx, next, metav1.UpdateOptions{})
		return err
	}
	t.Run("rendered", func(t *testing.T) {
		if err := apply(t, r.sts.DeepCopy()); err != nil {
			t.Fatalf("the next version's StatefulSet does not apply: %v", err)
		}
	})
	t.Run("control: version label in volumeClaimTemplates", func(t *testing.T) {
		old := r.sts.DeepCopy()
		for i := range old.Spec.VolumeClaimTemplates {
			old.Spec.VolumeClaimTemplates[i].Labels["app.kubernetes.io/version"] = version
		}
		err := apply(t, old)
		if err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Fatalf("updating volumeClaimTemplates' labels: %v, want the API server's Forbidden", err)
		}
	})
}
