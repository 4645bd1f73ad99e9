// Package unrunchart explains a workload that waits for a StorageClass no
// one created because no Helm controller runs the HelmCharts (the sandbox and
// the test world: Longhorn's chart would create the class and its
// provisioner). Stage verification and the success criteria both ask it, so
// the two say the same thing.
package unrunchart

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var (
	// GVRHelmChart is K3s's helm.cattle.io HelmChart.
	GVRHelmChart    = schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}
	gvrStorageClass = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	// GVRJob is a batch/v1 Job, what K3s's Helm controller runs per chart.
	GVRJob = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	gvrPVC = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
)

// Object explains an object that is still rolling out because its claims
// name a StorageClass that does not exist and a HelmChart named after that
// class was never run (no Helm controller here). That is not observable
// here, not a failure. On a real K3s the Helm controller runs every chart, so the same
// missing class stays a failure (and the storage stage's HelmChart check
// already says why).
func Object(ctx context.Context, dyn dynamic.Interface, u *unstructured.Unstructured) (string, bool) {
	return Classes(ctx, dyn, claimClasses(ctx, dyn, u))
}

// Classes is Object for the StorageClasses a workload's claims name.
func Classes(ctx context.Context, dyn dynamic.Interface, classes []string) (string, bool) {
	if dyn == nil {
		return "", false
	}
	var missing []string
	seen := map[string]bool{}
	for _, class := range classes {
		if seen[class] {
			continue
		}
		seen[class] = true
		_, err := dyn.Resource(gvrStorageClass).Get(ctx, class, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			missing = append(missing, class)
		}
	}
	if len(missing) == 0 {
		return "", false
	}
	chart, ok := unrunHelmChart(ctx, dyn, missing)
	if !ok {
		return "", false
	}
	sort.Strings(missing)
	return fmt.Sprintf("its claims wait for StorageClass %s, which does not exist; no Helm controller runs the HelmCharts here (HelmChart %s has no install Job), so the chart that would create it never ran: not observable here",
		strings.Join(missing, ", "), chart), true
}

// claimClasses lists the StorageClasses u's claims ask for: a claim itself,
// a StatefulSet's volumeClaimTemplates, or the claims a workload's pod
// template mounts.
func claimClasses(ctx context.Context, dyn dynamic.Interface, u *unstructured.Unstructured) []string {
	set := map[string]bool{}
	add := func(claim map[string]any) {
		if c, _, _ := unstructured.NestedString(claim, "spec", "storageClassName"); c != "" {
			set[c] = true
		}
	}
	switch u.GetKind() {
	case "PersistentVolumeClaim":
		add(u.Object)
	case "StatefulSet", "Deployment", "DaemonSet":
		if u.GetKind() == "StatefulSet" {
			tmpls, _, _ := unstructured.NestedSlice(u.Object, "spec", "volumeClaimTemplates")
			for _, t := range tmpls {
				if m, ok := t.(map[string]any); ok {
					add(m)
				}
			}
		}
		vols, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "volumes")
		for _, vol := range vols {
			m, _ := vol.(map[string]any)
			name, _, _ := unstructured.NestedString(m, "persistentVolumeClaim", "claimName")
			if name == "" {
				continue
			}
			pvc, err := dyn.Resource(gvrPVC).Namespace(u.GetNamespace()).Get(ctx, name, metav1.GetOptions{})
			if err == nil {
				add(pvc.Object)
			}
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	return out
}

// unrunHelmChart names a HelmChart no Helm controller has run (no install
// Job) that is named after one of the missing classes (longhorn →
// longhorn): the chart that would create it. A class no chart is named after
// (K3s's own local-path, say) is not excused: its absence is a failure.
func unrunHelmChart(ctx context.Context, dyn dynamic.Interface, classes []string) (string, bool) {
	charts, err := dyn.Resource(GVRHelmChart).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", false
	}
	var named []string
	for _, c := range charts.Items {
		match := false
		for _, class := range classes {
			if strings.Contains(c.GetName(), class) || strings.Contains(class, c.GetName()) {
				match = true
			}
		}
		if !match {
			continue
		}
		job, _, _ := unstructured.NestedString(c.Object, "status", "jobName")
		if job == "" {
			job = "helm-install-" + c.GetName()
		}
		_, err := dyn.Resource(GVRJob).Namespace(c.GetNamespace()).Get(ctx, job, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			named = append(named, c.GetNamespace()+"/"+c.GetName())
		}
	}
	if len(named) == 0 {
		return "", false
	}
	sort.Strings(named)
	return named[0], true
}
