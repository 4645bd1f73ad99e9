package checks_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"migrate-tui/internal/checks"
)

var (
	gvrES  = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	gvrCSS = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "clustersecretstores"}
)

func readyStatus(ok bool, reason, msg string) map[string]any {
	st := "False"
	if ok {
		st = "True"
	}
	return map[string]any{"conditions": []any{map[string]any{
		"type": "Ready", "status": st, "reason": reason, "message": msg,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}}
}

func TestSC009(t *testing.T) {
	// Not parallel: ClusterSecretStores are cluster-wide.
	ns := world.Namespace(t)
	store := createU(t, gvrCSS, "", map[string]any{"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
		"metadata": map[string]any{"name": "vault-" + ns},
		"spec": map[string]any{"provider": map[string]any{"vault": map[string]any{
			"server": "https://vault.service.consul:8200", "path": "nomad", "version": "v2",
			"auth": map[string]any{"kubernetes": map[string]any{"mountPath": "kubernetes-k3s", "role": "poc"}}}}}})
	t.Cleanup(func() {
		_ = world.Dynamic.Resource(gvrCSS).Delete(ctxT(t, time.Minute), store.GetName(), metav1.DeleteOptions{})
	})
	setStatus(t, gvrCSS, store, readyStatus(true, "Valid", "store validated"))
	es := createU(t, gvrES, ns, map[string]any{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
		"metadata": map[string]any{"name": "overseerr-vault"},
		"spec": map[string]any{"refreshInterval": "1h",
			"secretStoreRef": map[string]any{"kind": "ClusterSecretStore", "name": store.GetName()},
			"target":         map[string]any{"name": "overseerr-vault"},
			"dataFrom":       []any{map[string]any{"extract": map[string]any{"key": "default/overseerr"}}}}})
	setStatus(t, gvrES, es, readyStatus(true, "SecretSynced", "secret synced"))
	// What ESO would have written; the pod consumes it through envFrom.
	if _, err := world.Client.CoreV1().Secrets(ns).Create(ctxT(t, time.Minute), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "overseerr-vault"}, StringData: map[string]string{"K": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deploy(t, ns, svcSpec{name: "overseerr", secretEnv: "overseerr-vault"})
	deploy(t, ns, svcSpec{name: "whoami"})

	t.Run("pass", func(t *testing.T) {
		r := runOne(t, "SC-009", deps(ns, "overseerr"), checks.RunOptions{Wait: 90 * time.Second, RetryEvery: time.Second})
		expect(t, r, checks.Pass, "ClusterSecretStore "+store.GetName()+" Ready", "ExternalSecret overseerr-vault synced into Secret overseerr-vault, used by overseerr-")
	})
	t.Run("no pod uses the secret", func(t *testing.T) {
		if err := world.Client.AppsV1().Deployments(ns).Delete(ctxT(t, time.Minute), "overseerr", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "overseerr pods gone", 3*time.Minute, func(ctx context.Context) (bool, error) {
			l, err := world.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=overseerr"})
			return err == nil && len(l.Items) == 0, err
		})
		r := runOne(t, "SC-009", deps(ns, "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Fail, "but no Ready PoC pod uses it")
	})
	t.Run("external secret not synced", func(t *testing.T) {
		cur, err := world.Dynamic.Resource(gvrES).Namespace(ns).Get(ctxT(t, time.Minute), "overseerr-vault", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		setStatus(t, gvrES, cur, readyStatus(false, "SecretSyncedError", "permission denied"))
		r := runOne(t, "SC-009", deps(ns, "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Fail, "ExternalSecret overseerr-vault not synced (Ready=False SecretSyncedError permission denied)")
	})
	t.Run("store not ready", func(t *testing.T) {
		cur, err := world.Dynamic.Resource(gvrCSS).Get(ctxT(t, time.Minute), store.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		setStatus(t, gvrCSS, cur, readyStatus(false, "InvalidProviderConfig", "permission denied"))
		r := runOne(t, "SC-009", deps(ns, "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Fail, "ClusterSecretStore "+store.GetName()+" not Ready (InvalidProviderConfig permission denied)")
	})
	// No controller has written a condition: ESO does not run on KWOK's
	// nodes, so that is unobservable there — and a failure on a real cluster.
	t.Run("no controller", func(t *testing.T) {
		for _, x := range []struct {
			gvr schema.GroupVersionResource
			ns  string
		}{{gvrCSS, ""}, {gvrES, ns}} {
			var cur *unstructured.Unstructured
			var err error
			name := store.GetName()
			if x.ns != "" {
				name = "overseerr-vault"
				cur, err = world.Dynamic.Resource(x.gvr).Namespace(x.ns).Get(ctxT(t, time.Minute), name, metav1.GetOptions{})
			} else {
				cur, err = world.Dynamic.Resource(x.gvr).Get(ctxT(t, time.Minute), name, metav1.GetOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			setStatus(t, x.gvr, cur, map[string]any{})
		}
		r := runOne(t, "SC-009", deps(ns, "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Unobservable, "simulated (KWOK)", "has no Ready condition")
		withRealNode(t)
		r = runOne(t, "SC-009", deps(ns, "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Fail, "ClusterSecretStore "+store.GetName()+" has no Ready condition", "ExternalSecret overseerr-vault has no Ready condition")
	})
}
