package faultharness

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// whoamiReady makes the Kubernetes copy of whoami the cutover gate looks
// for (a Deployment and Service in the PoC namespace, poc by default) and
// waits until it is Ready with an endpoint: the services stage is not run
// in this chain (its overseerr needs volumes the world cannot bind).
func whoamiReady(t *testing.T, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k := world.Client
	labels := map[string]string{"app.kubernetes.io/name": "whoami"}
	one := int32(1)
	create := func(err error) {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	_, err := k.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	create(err)
	_, err = k.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "whoami", Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers:  []corev1.Container{{Name: "whoami", Image: "traefik/whoami:v1.10", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}},
				Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			}}}}, metav1.CreateOptions{})
	create(err)
	_, err = k.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "whoami"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	create(err)
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		d, err := k.AppsV1().Deployments(ns).Get(ctx, "whoami", metav1.GetOptions{})
		if err != nil || d.Status.ReadyReplicas != 1 {
			return false, nil
		}
		eps, err := k.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=whoami"})
		return err == nil && len(eps.Items) > 0 && len(eps.Items[0].Endpoints) > 0, nil
	})
	if err != nil {
		t.Fatalf("whoami in %s never became ready: %v", ns, err)
	}
}
