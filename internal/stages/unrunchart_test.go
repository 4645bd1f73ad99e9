package stages

import (
	"context"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"migrate-tui/internal/status"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/unrunchart"
)

// A StatefulSet whose claims wait for the StorageClass a never-run HelmChart
// would create (Longhorn in the sandbox) is not observable, not failed; the
// same StatefulSet with the class present, or with a Helm controller that ran
// the chart, still fails: only the missing controller excuses it.
func TestClaimsWaitingOnAnUnrunChartAreNotObservable(t *testing.T) {
	ctx := context.Background()
	crds, err := testworld.LoadCRDs()
	if err != nil {
		t.Fatal(err)
	}
	var helmCRDs []*unstructured.Unstructured
	for _, c := range crds {
		if strings.HasSuffix(c.GetName(), ".helm.cattle.io") {
			helmCRDs = append(helmCRDs, c)
		}
	}
	if err := world.ApplyCRDs(ctx, helmCRDs); err != nil {
		t.Fatal(err)
	}
	ns := world.Namespace(t)
	class := "longhorn-" + ns
	chart := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart",
		"metadata": map[string]any{"name": "longhorn", "namespace": ns},
		"spec":     map[string]any{"chart": "longhorn", "repo": "https://charts.longhorn.io"},
	}}
	if _, err := world.Dynamic.Resource(unrunchart.GVRHelmChart).Namespace(ns).Create(ctx, chart, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "db"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "sqlite:3"}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class,
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
			}},
		},
	}
	if _, err := world.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	st := &stateOf{Values: &tfjson.StateValues{RootModule: &tfjson.StateModule{ChildModules: []*tfjson.StateModule{{
		Address: "module.overseerr[0]",
		Resources: []*tfjson.StateResource{{Address: "module.overseerr[0].kubectl_manifest.db", Type: "kubectl_manifest",
			AttributeValues: map[string]any{"api_version": "apps/v1", "kind": "StatefulSet", "name": "db", "namespace": ns}}},
	}}}}}
	services, _ := ByName("services")
	verify := func() CheckResult {
		t.Helper()
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(world.Client.Discovery()))
		out, err := ObjectsVerifier{State: st, Dynamic: world.Dynamic, Mapper: mapper}.Verify(ctx, services)
		if err != nil || len(out) != 1 {
			t.Fatalf("verify: %v %+v", err, out)
		}
		return out[0]
	}

	r := verify()
	if r.Status != status.Unobservable || !strings.Contains(r.Evidence, "StorageClass "+class) || !strings.Contains(r.Evidence, "HelmChart "+ns+"/longhorn") {
		t.Fatalf("class missing, chart never run: got %s %q, want unobservable naming the class and the chart", r.Status, r.Evidence)
	}

	// The chart's install Job exists: a Helm controller runs here, so a
	// missing class is a real failure.
	job := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": "helm-install-longhorn", "namespace": ns},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"restartPolicy": "Never", "containers": []any{map[string]any{"name": "helm", "image": "rancher/klipper-helm"}}}}},
	}}
	if _, err := world.Dynamic.Resource(unrunchart.GVRJob).Namespace(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := verify(); r.Status != status.Fail {
		t.Fatalf("with a Helm controller: got %s %q, want fail", r.Status, r.Evidence)
	}
	if err := world.Dynamic.Resource(unrunchart.GVRJob).Namespace(ns).Delete(ctx, "helm-install-longhorn", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// The class exists: the claims wait on something else, a failure.
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: "driver.longhorn.io"}
	if _, err := world.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = world.Client.StorageV1().StorageClasses().Delete(context.Background(), class, metav1.DeleteOptions{})
	})
	if r := verify(); r.Status != status.Fail {
		t.Fatalf("class present: got %s %q, want fail", r.Status, r.Evidence)
	}
}
