package checks_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/unrunchart"
)

// overseerr on a StorageClass that only a never-run HelmChart would create
// (Longhorn in the sandbox): SC-001 and SC-003 say not observable, naming the
// class and the chart; once the class exists the same StatefulSet fails, as
// it would on a real K3s.
func TestClaimsOnAnUnrunChartsClassAreNotObservable(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t, time.Minute)
	ns := world.Namespace(t)
	class := "longhorn-" + ns
	chart := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart",
		"metadata": map[string]any{"name": "longhorn", "namespace": ns},
		"spec":     map[string]any{"chart": "longhorn"},
	}}
	if _, err := world.Dynamic.Resource(unrunchart.GVRHelmChart).Namespace(ns).Create(ctx, chart, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := world.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "overseerr-litestream"},
		Data:       map[string]string{"litestream.yml": "dbs:\n  - path: /app/config/db/db.sqlite3\n    replicas:\n      - type: s3\n        bucket: overseerr-k8s-litestream\n"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	one := int32(1)
	l := labelsFor("overseerr")
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "overseerr", Labels: l},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "overseerr", Image: "sctx/overseerr:1.33.2", VolumeMounts: []corev1.VolumeMount{{Name: "db", MountPath: "/app/config/db"}}},
					{Name: "litestream", Image: "litestream/litestream:0.5.18"}},
					Volumes: []corev1.Volume{{Name: "litestream-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "overseerr-litestream"}}}}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claimOn("db", class), claimOn("config", class)}},
	}
	if _, err := world.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := deps(ns, "overseerr")
	d.Decisions.LitestreamBucket = "overseerr-k8s-litestream"
	r := runOne(t, "SC-001", d, checks.RunOptions{})
	expect(t, r, checks.Unobservable, "StorageClass "+class+", which", "HelmChart "+ns+"/longhorn has no install Job")
	expect(t, runOne(t, "SC-003", d, checks.RunOptions{}), checks.Unobservable, "no Ready pod", "StorageClass "+class)

	if _, err := world.Client.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: "driver.longhorn.io"}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = world.Client.StorageV1().StorageClasses().Delete(ctx, class, metav1.DeleteOptions{}) })
	expect(t, runOne(t, "SC-001", d, checks.RunOptions{}), checks.Fail, "0 of 1 replicas ready")
	expect(t, runOne(t, "SC-003", d, checks.RunOptions{}), checks.Fail, "no Ready pod")
}

func claimOn(name, class string) corev1.PersistentVolumeClaim {
	return corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
}
