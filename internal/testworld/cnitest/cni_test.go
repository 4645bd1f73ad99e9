// Package cnitest runs a test world whose nodes wait for a CNI
// (Options.NodesWaitForCNI), as K3s nodes with flannel-backend: none do.
// It is a package of its own because its nodes start NotReady, which the
// other packages' worlds must not.
package cnitest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/testworld"
)

var world *testworld.World

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w, err := testworld.Start(ctx, testworld.Options{NodesWaitForCNI: true})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cnitest:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	if err := w.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "cnitest: stop:", err)
		code = 1
	}
	os.Exit(code)
}

// daemonSet is shaped like Cilium's agent DaemonSet where it matters here:
// kube-system, pods labelled k8s-app=<app>, tolerating every taint (Cilium's
// chart sets `tolerations: [{operator: Exists}]` so the agent lands on
// NotReady nodes).
func daemonSet(name, app string) *appsv1.DaemonSet {
	labels := map[string]string{"k8s-app": app}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testworld.CNINamespace},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork: true,
					Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers:  []corev1.Container{{Name: "agent", Image: "quay.io/cilium/cilium:v1.18.2"}},
				},
			},
		},
	}
}

func readyCondition(n *corev1.Node) (corev1.NodeCondition, bool) {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c, true
		}
	}
	return corev1.NodeCondition{}, false
}

// TestNodesWaitForTheCNI: without a CNI pod every node reports what a
// kubelet over containerd reports with no CNI config (Ready=False,
// KubeletNotReady, "container runtime network not ready: ...") and the node
// lifecycle controller taints it not-ready; a DaemonSet that is not the CNI
// changes nothing; once the CNI DaemonSet's pod runs on a node, the node
// turns Ready.
func TestNodesWaitForTheCNI(t *testing.T) {
	ctx := context.Background()
	c := world.Client
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != len(testworld.Nodes) {
		t.Fatalf("%d nodes, want %d", len(nodes.Items), len(testworld.Nodes))
	}
	for _, n := range nodes.Items {
		r, ok := readyCondition(&n)
		if !ok || r.Status != corev1.ConditionFalse || r.Reason != testworld.NetworkNotReadyReason || r.Message != testworld.NetworkNotReadyMessage {
			t.Errorf("node %s without a CNI: Ready condition %+v, want False/%s/%q", n.Name, r, testworld.NetworkNotReadyReason, testworld.NetworkNotReadyMessage)
		}
	}
	testworld.WaitFor(t, 2*time.Minute, "the node lifecycle controller to taint every node node.kubernetes.io/not-ready", func(ctx context.Context) (bool, error) {
		for _, want := range testworld.Nodes {
			n, err := c.CoreV1().Nodes().Get(ctx, want.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			tainted := false
			for _, taint := range n.Spec.Taints {
				tainted = tainted || taint.Key == corev1.TaintNodeNotReady
			}
			if !tainted {
				return false, nil
			}
		}
		return true, nil
	})

	// Another DaemonSet's pods run on every node: still no CNI.
	if _, err := c.AppsV1().DaemonSets(testworld.CNINamespace).Create(ctx, daemonSet("node-exporter", "node-exporter"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testworld.WaitFor(t, 3*time.Minute, "the node-exporter DaemonSet's pods to run on every node", func(ctx context.Context) (bool, error) {
		ds, err := c.AppsV1().DaemonSets(testworld.CNINamespace).Get(ctx, "node-exporter", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return ds.Status.DesiredNumberScheduled == int32(len(testworld.Nodes)) && ds.Status.NumberReady == ds.Status.DesiredNumberScheduled, nil
	})
	for _, want := range testworld.Nodes {
		n, err := c.CoreV1().Nodes().Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := readyCondition(n); r.Status != corev1.ConditionFalse {
			t.Errorf("node %s turned Ready (%+v) with only a non-CNI DaemonSet running", n.Name, r)
		}
	}

	// Cilium's agent DaemonSet: every node turns Ready.
	if _, err := c.AppsV1().DaemonSets(testworld.CNINamespace).Create(ctx, daemonSet("cilium", "cilium"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testworld.WaitFor(t, 3*time.Minute, "every node to turn Ready once the cilium DaemonSet's pod runs there", func(ctx context.Context) (bool, error) {
		for _, want := range testworld.Nodes {
			n, err := c.CoreV1().Nodes().Get(ctx, want.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if r, _ := readyCondition(n); r.Status != corev1.ConditionTrue {
				return false, fmt.Errorf("node %s: %s %s", n.Name, r.Status, r.Message)
			}
		}
		return true, nil
	})
}
