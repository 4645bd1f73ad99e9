package cutover

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// workload is the Kubernetes copy's pod template, from its Deployment or
// StatefulSet (named after the service, or labelled with its name).
type workload struct {
	Kind, Name string
	Template   corev1.PodTemplateSpec
	Selector   *metav1.LabelSelector
}

func (w workload) String() string { return w.Kind + " " + w.Name }

func namedAfter(service string, name string, labels map[string]string) bool {
	return name == service || labels["app.kubernetes.io/name"] == service || labels["app"] == service
}

// findWorkload returns nil, nil when the namespace has no workload of the
// service.
func findWorkload(ctx context.Context, kube kubernetes.Interface, ns, service string) (*workload, error) {
	deps, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Deployments in %s: %w", ns, err)
	}
	for _, d := range deps.Items {
		if namedAfter(service, d.Name, d.Labels) {
			return &workload{Kind: "Deployment", Name: ns + "/" + d.Name, Template: d.Spec.Template, Selector: d.Spec.Selector}, nil
		}
	}
	sts, err := kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list StatefulSets in %s: %w", ns, err)
	}
	for _, s := range sts.Items {
		if namedAfter(service, s.Name, s.Labels) {
			return &workload{Kind: "StatefulSet", Name: ns + "/" + s.Name, Template: s.Spec.Template, Selector: s.Spec.Selector}, nil
		}
	}
	return nil, nil
}

// workloadFor finds the workload or, when there is none to look at, makes
// c a blocking check that says why.
func workloadFor(ctx context.Context, kube kubernetes.Interface, ns, service string, c *GateCheck) (*workload, bool) {
	if kube == nil {
		c.Status, c.Found, c.Next = Block, "no cluster configured", "Pass --kubeconfig (or set KUBECONFIG) for the K3s cluster."
		return nil, false
	}
	w, err := findWorkload(ctx, kube, ns, service)
	if err != nil {
		c.Status, c.Found, c.Next = Block, err.Error(), "Check the kubeconfig's access to namespace "+ns+"."
		return nil, false
	}
	if w == nil {
		c.Status, c.Found = Block, fmt.Sprintf("no Deployment or StatefulSet of %s in namespace %s", service, ns)
		c.Next = "Apply the services stage (migrate-tui apply --stage services)."
		return nil, false
	}
	return w, true
}
