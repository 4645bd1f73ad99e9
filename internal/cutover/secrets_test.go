package cutover_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/status"
	"migrate-tui/internal/testworld"
)

var gvrES = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}

// esoCRDs applies External Secrets' CRDs (the pinned bundle) to the world.
func esoCRDs(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, src := range testworld.CRDSources {
		if src.Name != "External Secrets" {
			continue
		}
		crds, err := src.Load()
		if err != nil {
			t.Fatal(err)
		}
		if err := world.ApplyCRDs(ctx, crds); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("no External Secrets CRD source in testworld.CRDSources")
}

func overseerrSet(ns string, annotations map[string]string, envFromSecret string) *appsv1.StatefulSet {
	labels := map[string]string{"app.kubernetes.io/name": "overseerr"}
	c := corev1.Container{Name: "overseerr", Image: "sctx/overseerr:1.33.2"}
	if envFromSecret != "" {
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: envFromSecret}}}}
	}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "overseerr", Namespace: ns, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{c}}},
		},
	}
}

// TestSecretsCheck reads the Nomad simulator's overseerr job (its templates
// read nomad/data/default/overseerr: the app every key, the litestream
// tasks MINIO_ACCESS_KEY and MINIO_SECRET_KEY) and checks them against
// ExternalSecrets, Secrets and workloads in the test world's API server.
func TestSecretsCheck(t *testing.T) {
	ctx := ctxT(t, 3*time.Minute)
	esoCRDs(t, ctx)
	_, nc := sim(t)
	job, err := cutover.FromClient(nc).ReadJob(ctx, "default", "overseerr")
	if err != nil {
		t.Fatal(err)
	}
	reads := cutover.NomadVaultReads(job)
	if len(reads) != 1 || reads[0].Path != "nomad/data/default/overseerr" || !reads[0].AllKeys ||
		strings.Join(reads[0].Keys, ",") != "MINIO_ACCESS_KEY,MINIO_SECRET_KEY" {
		t.Fatalf("NomadVaultReads = %+v", reads)
	}

	const value = "do-not-print-this-value"
	ns := world.Namespace(t)
	kube, dyn := world.Client, world.Dynamic
	in := cutover.SecretsInput{Service: "overseerr", Job: job, Kube: kube, Dynamic: dyn, Namespace: ns}
	check := func(t *testing.T, in cutover.SecretsInput, want status.Status, found string) {
		t.Helper()
		got := cutover.Secrets(ctx, in)
		if got.Status != want || !strings.Contains(got.Found, found) {
			t.Fatalf("got %s %q; want %s with %q", got.Status, got.Found, want, found)
		}
		if strings.Contains(got.Found+got.Next, value) {
			t.Fatalf("a secret value was printed: %+v", got)
		}
		if want != status.Pass && got.Next == "" {
			t.Errorf("no next step: %+v", got)
		}
	}

	t.Run("no workload", func(t *testing.T) { check(t, in, status.Fail, "no Deployment or StatefulSet of overseerr") })
	_, err = kube.AppsV1().StatefulSets(ns).Create(ctx, overseerrSet(ns, nil, "overseerr-vault"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no ExternalSecret", func(t *testing.T) {
		check(t, in, status.Fail, "Vault path nomad/data/default/overseerr (read by task litestream-restore, overseerr, litestream) has no ExternalSecret")
	})

	es := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
		"metadata": map[string]any{"name": "overseerr-vault", "namespace": ns},
		"spec": map[string]any{
			"secretStoreRef": map[string]any{"kind": "ClusterSecretStore", "name": "vault"},
			"target":         map[string]any{"name": "overseerr-vault"},
			"data": []any{
				map[string]any{"secretKey": "LITESTREAM_ACCESS_KEY_ID", "remoteRef": map[string]any{"key": "default/overseerr", "property": "MINIO_ACCESS_KEY"}},
			},
		},
	}}
	es, err = dyn.Resource(gvrES).Namespace(ns).Create(ctx, es, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a key the template reads is not mapped", func(t *testing.T) {
		check(t, in, status.Fail, "keys MINIO_SECRET_KEY read by the Nomad template are in no ExternalSecret")
	})
	data, _, _ := unstructured.NestedSlice(es.Object, "spec", "data")
	data = append(data, map[string]any{"secretKey": "LITESTREAM_SECRET_ACCESS_KEY", "remoteRef": map[string]any{"key": "nomad/data/default/overseerr", "property": "MINIO_SECRET_KEY"}})
	unstructured.SetNestedSlice(es.Object, data, "spec", "data")
	unstructured.SetNestedSlice(es.Object, []any{map[string]any{"extract": map[string]any{"key": "default/overseerr"}}}, "spec", "dataFrom")
	if es, err = dyn.Resource(gvrES).Namespace(ns).Update(ctx, es, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("no controller synced it", func(t *testing.T) {
		check(t, in, status.Unobservable, "ExternalSecret overseerr-vault has no Ready condition")
		accepted := in
		accepted.AcceptUnobserved = true
		check(t, accepted, status.Warn, "accepted unobserved")
	})
	// What External Secrets writes once Vault answered.
	unstructured.SetNestedSlice(es.Object, []any{map[string]any{"type": "Ready", "status": "True", "reason": "SecretSynced", "message": "secret synced"}}, "status", "conditions")
	if _, err := dyn.Resource(gvrES).Namespace(ns).UpdateStatus(ctx, es, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("synced, Secret missing", func(t *testing.T) {
		check(t, in, status.Fail, "ExternalSecret overseerr-vault says synced, but its Secret overseerr-vault does not exist")
	})
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "overseerr-vault", Namespace: ns},
		Data: map[string][]byte{"LITESTREAM_ACCESS_KEY_ID": []byte(value), "MINIO_ACCESS_KEY": []byte(value)}}
	if sec, err = kube.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("Secret lacks a key", func(t *testing.T) {
		check(t, in, status.Fail, "Secret overseerr-vault (from ExternalSecret overseerr-vault) lacks keys LITESTREAM_SECRET_ACCESS_KEY")
	})
	sec.Data["LITESTREAM_SECRET_ACCESS_KEY"] = []byte(value)
	if _, err := kube.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("synced and used", func(t *testing.T) {
		check(t, in, status.Pass, "nomad/data/default/overseerr → ExternalSecret overseerr-vault synced → Secret overseerr-vault (3 keys) used by StatefulSet")
	})
	t.Run("the app reads every key, the ExternalSecret maps two", func(t *testing.T) {
		es, err := dyn.Resource(gvrES).Namespace(ns).Get(ctx, "overseerr-vault", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		unstructured.RemoveNestedField(es.Object, "spec", "dataFrom")
		if _, err := dyn.Resource(gvrES).Namespace(ns).Update(ctx, es, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		check(t, in, status.Warn, "a Nomad template (of tasks litestream-restore, overseerr, litestream) reads every key; the ExternalSecrets map only MINIO_ACCESS_KEY, MINIO_SECRET_KEY")
	})
	t.Run("synced but not used by the workload", func(t *testing.T) {
		updateSet(t, ctx, ns, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].EnvFrom = nil })
		check(t, in, status.Fail, "does not reference it")
	})

	t.Run("agent injector", func(t *testing.T) {
		ns := world.Namespace(t)
		in := in
		in.Namespace, in.VaultMethod = ns, "agent-injector"
		ann := map[string]string{
			"vault.hashicorp.com/agent-inject":                         "true",
			"vault.hashicorp.com/agent-inject-secret-litestream.env":   "nomad/data/default/overseerr",
			"vault.hashicorp.com/agent-inject-template-litestream.env": `{{- with secret "nomad/data/default/overseerr" }}export A='{{ .Data.data.MINIO_ACCESS_KEY }}'{{ end }}`,
		}
		if _, err := kube.AppsV1().StatefulSets(ns).Create(ctx, overseerrSet(ns, ann, ""), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		check(t, in, status.Fail, "the injector templates of StatefulSet "+ns+"/overseerr read no MINIO_SECRET_KEY")
		updateSet(t, ctx, ns, func(s *appsv1.StatefulSet) {
			s.Spec.Template.Annotations["vault.hashicorp.com/agent-inject-template-litestream.env"] += `{{ with secret "nomad/data/default/overseerr" }}export B='{{ .Data.data.MINIO_SECRET_KEY }}'{{ end }}`
		})
		check(t, in, status.Pass, "nomad/data/default/overseerr → injected as litestream.env")
		updateSet(t, ctx, ns, func(s *appsv1.StatefulSet) {
			delete(s.Spec.Template.Annotations, "vault.hashicorp.com/agent-inject-secret-litestream.env")
		})
		check(t, in, status.Fail, "is named by no vault.hashicorp.com/agent-inject-secret-<file> annotation")
	})
}

// updateSet changes the overseerr StatefulSet, read fresh (its controller
// writes status meanwhile).
func updateSet(t *testing.T, ctx context.Context, ns string, mutate func(*appsv1.StatefulSet)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := world.Client.AppsV1().StatefulSets(ns).Get(ctx, "overseerr", metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(s)
		_, err = world.Client.AppsV1().StatefulSets(ns).Update(ctx, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
