package testworld

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GVRVPA is the VerticalPodAutoscaler resource (the CRDs option installs it).
var GVRVPA = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}

// DeployWithUsage creates a one-replica Deployment named like the service,
// one container of the same name, whose pod KWOK reports as using cpu and
// mem (what the metrics pipeline and the VPA recommender then see).
func (w *World) DeployWithUsage(t testing.TB, ns, name, cpu, mem string) {
	t.Helper()
	labels := map[string]string{"app.kubernetes.io/name": name}
	one := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"kwok.x-k8s.io/usage-cpu": cpu, "kwok.x-k8s.io/usage-memory": mem}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: name, Image: "traefik/whoami:v1.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
					Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
				},
			},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// CreateVPA creates a VPA in mode Off for the Deployment name; naming a
// recommender other than the default means no recommendation ever comes.
func (w *World) CreateVPA(t testing.TB, ns, name string, recommenders ...string) {
	t.Helper()
	spec := map[string]any{
		"targetRef":    map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
		"updatePolicy": map[string]any{"updateMode": "Off"},
	}
	if len(recommenders) > 0 {
		var rs []any
		for _, r := range recommenders {
			rs = append(rs, map[string]any{"name": r})
		}
		spec["recommenders"] = rs
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
		"metadata": map[string]any{"name": name}, "spec": spec}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Dynamic.Resource(GVRVPA).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// WaitVPATarget waits for the real recommender's target for the VPA name
// (its first container) and returns it, read straight from the object.
func (w *World) WaitVPATarget(t testing.TB, ns, name string) (cpu, mem resource.Quantity) {
	t.Helper()
	WaitFor(t, 4*time.Minute, "a VPA recommendation for "+name, func(ctx context.Context) (bool, error) {
		u, err := w.Dynamic.Resource(GVRVPA).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		crs, _, _ := unstructured.NestedSlice(u.Object, "status", "recommendation", "containerRecommendations")
		if len(crs) == 0 {
			return false, nil
		}
		m, _ := crs[0].(map[string]any)["target"].(map[string]any)
		c, _ := m["cpu"].(string)
		me, _ := m["memory"].(string)
		var errC, errM error
		cpu, errC = resource.ParseQuantity(c)
		mem, errM = resource.ParseQuantity(me)
		return errC == nil && errM == nil, nil
	})
	return cpu, mem
}
