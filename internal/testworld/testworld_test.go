package testworld_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"migrate-tui/internal/testworld"
	"migrate-tui/internal/tfrunner/tftest"
)

// world is the one full world of this package: KWOK, controllers, metrics,
// the VPA recommender, the CRDs and the local-path provisioner.
var world *testworld.World

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w, err := testworld.Start(ctx, testworld.Options{VPARecommender: true, LocalPath: true, Traefik: true})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testworld:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	if err := w.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testworld: stop:", err)
		code = 1
	}
	os.Exit(code)
}

func TestNodesAreTheHomelab(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	want := map[string]string{"hestia": "amd64", "heracles": "arm64", "nyx": "arm64"}
	nodes, err := world.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != len(want) {
		t.Fatalf("nodes: got %d, want %d", len(nodes.Items), len(want))
	}
	for _, n := range nodes.Items {
		arch, ok := want[n.Name]
		if !ok {
			t.Errorf("unexpected node %s", n.Name)
			continue
		}
		labels := map[string]string{
			"kubernetes.io/arch":                    arch,
			"kubernetes.io/os":                      "linux",
			"kubernetes.io/hostname":                n.Name,
			"node-role.kubernetes.io/control-plane": "true",
			"node-role.kubernetes.io/master":        "true",
			"node-role.kubernetes.io/etcd":          "true",
		}
		for k, v := range labels {
			if got := n.Labels[k]; got != v {
				t.Errorf("node %s label %s = %q, want %q", n.Name, k, got, v)
			}
		}
		if n.Status.NodeInfo.Architecture != arch {
			t.Errorf("node %s nodeInfo.architecture = %q, want %q", n.Name, n.Status.NodeInfo.Architecture, arch)
		}
		ready := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			t.Errorf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
		}
		mem := n.Status.Capacity[corev1.ResourceMemory]
		if mem.Cmp(resource.MustParse("4Gi")) < 0 || mem.Cmp(resource.MustParse("1Ti")) >= 0 {
			t.Errorf("node %s memory capacity %s: want the node's own, not KWOK's default", n.Name, mem.String())
		}
	}
}

func spreadDeployment(name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  "app",
						Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("100m"),
							corev1.ResourceMemory: resource.MustParse("64Mi"),
						}},
					}},
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew:           1,
						TopologyKey:       "kubernetes.io/hostname",
						WhenUnsatisfiable: corev1.DoNotSchedule,
						LabelSelector:     &metav1.LabelSelector{MatchLabels: labels},
					}},
				},
			},
		},
	}
}

func TestDeploymentBecomesAvailableAcrossNodes(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	ctx := context.Background()
	d := spreadDeployment("spread", 3, nil)
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testworld.WaitFor(t, 2*time.Minute, "deployment spread to be Available with 3 replicas", func(ctx context.Context) (bool, error) {
		d, err := world.Client.AppsV1().Deployments(ns).Get(ctx, "spread", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
				return d.Status.AvailableReplicas == 3, nil
			}
		}
		return false, nil
	})
	pods, err := world.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=spread"})
	if err != nil {
		t.Fatal(err)
	}
	onNode := map[string]int{}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s phase %s, want Running", p.Name, p.Status.Phase)
		}
		onNode[p.Spec.NodeName]++
	}
	for _, n := range []string{"hestia", "heracles", "nyx"} {
		if onNode[n] != 1 {
			t.Errorf("pods per node %v: want one on each of hestia, heracles, nyx", onNode)
			break
		}
	}
}

var vpaGVR = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}

func vpa(name, target, mode string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "autoscaling.k8s.io/v1",
		"kind":       "VerticalPodAutoscaler",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"targetRef":    map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
			"updatePolicy": map[string]any{"updateMode": mode},
		},
	}}
}

func TestVPASchemaValidation(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	ctx := context.Background()
	if _, err := world.Dynamic.Resource(vpaGVR).Namespace(ns).Create(ctx, vpa("good", "web", "Off"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("valid VerticalPodAutoscaler rejected: %v", err)
	}
	_, err := world.Dynamic.Resource(vpaGVR).Namespace(ns).Create(ctx, vpa("bad", "web", "Sometimes"), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("VerticalPodAutoscaler with updateMode Sometimes: got %v, want an Invalid error from schema validation", err)
	}
	if !strings.Contains(err.Error(), "updateMode") {
		t.Errorf("error does not name the field: %v", err)
	}
}

func TestCRDsFromEveryProject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{
		"verticalpodautoscalers.autoscaling.k8s.io",
		"verticalpodautoscalercheckpoints.autoscaling.k8s.io",
		"externalsecrets.external-secrets.io",
		"clustersecretstores.external-secrets.io",
		"ingressroutes.traefik.io",
		"middlewares.traefik.io",
		"ciliumnetworkpolicies.cilium.io",
		"helmcharts.helm.cattle.io",
		"helmchartconfigs.helm.cattle.io",
		"peerauthentications.security.istio.io",
	} {
		crd, err := world.Dynamic.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("CRD %s: %v", name, err)
			continue
		}
		if s, _, _ := unstructured.NestedString(crd.Object, "spec", "conversion", "strategy"); s == "Webhook" {
			t.Errorf("CRD %s still has a conversion webhook nothing serves", name)
		}
	}
}

// podMetrics is the part of metrics.k8s.io/v1beta1 PodMetricsList read here.
type podMetrics struct {
	Items []struct {
		Metadata   metav1.ObjectMeta `json:"metadata"`
		Containers []struct {
			Name  string              `json:"name"`
			Usage corev1.ResourceList `json:"usage"`
		} `json:"containers"`
	} `json:"items"`
}

// TestMetricsAndVPARecommendation proves the metrics pipeline is real: the
// pods' simulated usage reaches the metrics API, and the real recommender
// turns it into a recommendation.
func TestMetricsAndVPARecommendation(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	ctx := context.Background()
	d := spreadDeployment("busy", 2, map[string]string{
		"kwok.x-k8s.io/usage-cpu":    "120m",
		"kwok.x-k8s.io/usage-memory": "100Mi",
	})
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := world.Dynamic.Resource(vpaGVR).Namespace(ns).Create(ctx, vpa("busy", "busy", "Off"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testworld.WaitFor(t, 3*time.Minute, "pod metrics with the simulated 120m CPU", func(ctx context.Context) (bool, error) {
		raw, err := world.Client.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/" + ns + "/pods").DoRaw(ctx)
		if err != nil {
			return false, err
		}
		var pm podMetrics
		if err := json.Unmarshal(raw, &pm); err != nil {
			return false, err
		}
		if len(pm.Items) == 0 {
			return false, errors.New("no pod metrics yet")
		}
		for _, it := range pm.Items {
			for _, c := range it.Containers {
				cpu := c.Usage[corev1.ResourceCPU]
				if cpu.MilliValue() < 100 || cpu.MilliValue() > 140 {
					return false, fmt.Errorf("pod %s cpu usage %s, want about 120m", it.Metadata.Name, cpu.String())
				}
			}
		}
		return true, nil
	})
	testworld.WaitFor(t, 3*time.Minute, "a VPA recommendation from the real recommender", func(ctx context.Context) (bool, error) {
		u, err := world.Dynamic.Resource(vpaGVR).Namespace(ns).Get(ctx, "busy", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		recs, _, _ := unstructured.NestedSlice(u.Object, "status", "recommendation", "containerRecommendations")
		if len(recs) == 0 {
			return false, errors.New("no recommendation yet")
		}
		target, _, _ := unstructured.NestedString(recs[0].(map[string]any), "target", "cpu")
		q, err := resource.ParseQuantity(target)
		if err != nil {
			return false, fmt.Errorf("target cpu %q: %w", target, err)
		}
		if q.MilliValue() < 100 {
			return false, fmt.Errorf("target cpu %s, want at least the 120m used", target)
		}
		return true, nil
	})
}

// TestStopLeavesNothing starts a small world of its own, takes its API
// server away, then stops it and checks every process and directory is gone.
func TestStopLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := testworld.Start(ctx, testworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	pids := w.PIDs()
	if len(pids) != 2 {
		t.Fatalf("PIDs %v: want etcd and kube-apiserver", pids)
	}
	if _, err := w.Client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("API before StopAPIServer: %v", err)
	}
	if err := w.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err == nil {
		t.Fatal("API still answers after StopAPIServer")
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Stop (kill 0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(w.Dir); !os.IsNotExist(err) {
		t.Errorf("world directory %s still there after Stop (%v)", w.Dir, err)
	}
}

func TestMissingToolNamesBootstrap(t *testing.T) {
	t.Setenv("MIGRATE_TUI_TOOLS", t.TempDir())
	_, err := testworld.Start(context.Background(), testworld.Options{})
	if err == nil {
		t.Fatal("Start with an empty tools directory succeeded")
	}
	if !strings.Contains(err.Error(), "hack/bootstrap.sh") {
		t.Errorf("error %q does not say to run hack/bootstrap.sh", err)
	}
}

const tofuConfig = `
terraform {
  required_providers {
    kubectl = {
      source  = "gavinbunney/kubectl"
      version = "1.19.0"
    }
  }
}

variable "kubeconfig" { type = string }
variable "namespace" { type = string }

provider "kubectl" {
  config_path      = var.kubeconfig
  load_config_file = true
}

resource "kubectl_manifest" "namespace" {
  yaml_body = yamlencode({
    apiVersion = "v1"
    kind       = "Namespace"
    metadata   = { name = var.namespace }
  })
}

resource "kubectl_manifest" "config" {
  yaml_body = yamlencode({
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "greeting", namespace = var.namespace }
    data       = { hello = "homelab" }
  })
  depends_on = [kubectl_manifest.namespace]
}
`

func TestOpenTofuKubectlProvider(t *testing.T) {
	t.Parallel()
	tofu := tftest.Tofu(t)
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(tofuConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("tofu-%d", time.Now().UnixNano()%1_000_000)
	env := append(tftest.CLIEnv(t, ""),
		"TF_VAR_kubeconfig="+world.Kubeconfig, "TF_VAR_namespace="+ns)
	run := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(tofu, args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			var ee interface{ ExitCode() int }
			if !errors.As(err, &ee) {
				t.Fatalf("tofu %v: %v", args, err)
			}
			code = ee.ExitCode()
		}
		return code, string(out)
	}
	mustRun := func(args ...string) {
		t.Helper()
		if code, out := run(args...); code != 0 {
			t.Fatalf("tofu %v: exit %d\n%s", args, code, out)
		}
	}
	t.Cleanup(func() {
		_ = world.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	mustRun("init", "-no-color")
	mustRun("apply", "-auto-approve", "-no-color")

	ctx := context.Background()
	cm, err := world.Client.CoreV1().ConfigMaps(ns).Get(ctx, "greeting", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ConfigMap after apply: %v", err)
	}
	if cm.Data["hello"] != "homelab" {
		t.Errorf("ConfigMap data %v, want hello=homelab", cm.Data)
	}
	if code, out := run("plan", "-detailed-exitcode", "-no-color"); code != 0 {
		t.Fatalf("second plan: exit %d (0 = no changes)\n%s", code, out)
	}
	mustRun("destroy", "-auto-approve", "-no-color")
	if _, err := world.Client.CoreV1().ConfigMaps(ns).Get(ctx, "greeting", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap greeting after destroy: got %v, want NotFound", err)
	}
	testworld.WaitFor(t, 3*time.Minute, "namespace "+ns+" to be gone after destroy", func(ctx context.Context) (bool, error) {
		_, err := world.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// BenchmarkStartStop measures a bare world (etcd and kube-apiserver): the
// cost every test package pays once in TestMain.
func BenchmarkStartStop(b *testing.B) {
	for b.Loop() {
		w, err := testworld.Start(context.Background(), testworld.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// A claim on the default StorageClass (local-path, as in K3s) is provisioned
// by the real local-path-provisioner for the node its pod is scheduled on:
// the helper pod runs (KWOK completes it), the claim binds, the pod runs;
// deleting the claim tears the volume down again.
func TestLocalPathVolumeBindsAndPodRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := world.Namespace(t)
	c := world.Client

	sc, err := c.StorageV1().StorageClasses().Get(ctx, testworld.LocalPathStorageClass, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Provisioner != "rancher.io/local-path" || sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != "WaitForFirstConsumer" ||
		sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Fatalf("StorageClass local-path: provisioner %s, binding mode %v, annotations %v; want K3s's", sc.Provisioner, sc.VolumeBindingMode, sc.Annotations)
	}

	// No storageClassName: the default class must be local-path.
	pvc, err := c.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != testworld.LocalPathStorageClass {
		t.Fatalf("claim without a class got class %v, want the default local-path", pvc.Spec.StorageClassName)
	}
	_, err = c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "user"},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"kubernetes.io/hostname": "heracles"},
			Containers: []corev1.Container{{
				Name: "app", Image: "busybox",
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"},
			}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testworld.WaitFor(t, 8*time.Minute, "pod user Running with claim data Bound", func(ctx context.Context) (bool, error) {
		pod, err := c.CoreV1().Pods(ns).Get(ctx, "user", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		claim, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return pod.Status.Phase == corev1.PodRunning && claim.Status.Phase == corev1.ClaimBound, nil
	})
	claim, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := c.CoreV1().PersistentVolumes().Get(ctx, claim.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Spec.HostPath == nil || !strings.HasPrefix(pv.Spec.HostPath.Path, "/var/lib/rancher/k3s/storage/") {
		t.Errorf("volume %s: source %+v, want a hostPath under K3s's /var/lib/rancher/k3s/storage", pv.Name, pv.Spec.PersistentVolumeSource)
	}
	if got := fmt.Sprint(pv.Spec.NodeAffinity); !strings.Contains(got, "heracles") {
		t.Errorf("volume %s node affinity %s, want it pinned to heracles", pv.Name, got)
	}

	// Reclaim policy Delete: the teardown helper pod completes and the
	// volume goes away.
	if err := c.CoreV1().Pods(ns).Delete(ctx, "user", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testworld.WaitFor(t, 8*time.Minute, "volume "+pv.Name+" deleted after its claim", func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
