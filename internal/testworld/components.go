package testworld

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"migrate-tui/internal/testtools"
)

// startControllers runs kube-controller-manager and kube-scheduler and waits
// for the controller-manager to act (the default service account appears).
func (w *World) startControllers(ctx context.Context, bins map[string]string) error {
	if err := w.run("kube-controller-manager", bins["kube-controller-manager"],
		"--kubeconfig="+w.Kubeconfig,
		"--authentication-kubeconfig="+w.Kubeconfig,
		"--authorization-kubeconfig="+w.Kubeconfig,
		"--controllers=*,-nodeipam,-cloud-node-lifecycle",
		"--leader-elect=false",
		"--secure-port=0",
		"--service-account-private-key-file="+w.certs.saKey,
		"--root-ca-file="+w.certs.ca.certFile,
		"--use-service-account-credentials=false",
		// KWOK's heartbeats are jittered; do not let a late one evict pods.
		"--node-monitor-grace-period=2m",
	); err != nil {
		return err
	}
	if err := w.run("kube-scheduler", bins["kube-scheduler"],
		"--kubeconfig="+w.Kubeconfig,
		"--authentication-kubeconfig="+w.Kubeconfig,
		"--authorization-kubeconfig="+w.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	); err != nil {
		return err
	}
	return w.poll(ctx, "kube-controller-manager to create service account default/default", func(ctx context.Context) (bool, error) {
		_, err := w.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}

// kwokStages are the KWOK Stage and Metric files, relative to the kwok
// module, that make nodes Ready and pods run.
var kwokStages = []string{
	kwokNodeInitialize,
	kwokNodeHeartbeat,
	"kustomize/stage/pod/general/pod-create.yaml",
	"kustomize/stage/pod/general/pod-init-container-running.yaml",
	"kustomize/stage/pod/general/pod-init-container-completed.yaml",
	"kustomize/stage/pod/general/pod-ready.yaml",
	"kustomize/stage/pod/general/pod-complete.yaml",
	"kustomize/stage/pod/general/pod-delete.yaml",
}

const (
	kwokNodeInitialize = "kustomize/stage/node/fast/node-initialize.yaml"
	kwokNodeHeartbeat  = "kustomize/stage/node/heartbeat/node-heartbeat.yaml"
)

var kwokMetrics = []string{
	"kustomize/metrics/resource/metrics-resource.yaml",
	"kustomize/metrics/usage/usage-from-annotation.yaml",
}

// startKWOK creates the homelab's Node objects, runs KWOK for them and waits
// until all are Ready.
func (w *World) startKWOK(ctx context.Context, bins map[string]string) error {
	version, err := testtools.Version("KWOK_VERSION")
	if err != nil {
		return err
	}
	mod, err := testtools.ModuleDir("sigs.k8s.io/kwok", version)
	if err != nil {
		return fmt.Errorf("KWOK stages: %w (%s)", err, testtools.BootstrapHint)
	}
	files := kwokStages
	if w.Options.Metrics {
		files = append(append([]string(nil), kwokStages...), kwokMetrics...)
	}
	docs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(mod, f))
		if err != nil {
			return fmt.Errorf("KWOK stages: %w", err)
		}
		docs[f] = b
	}
	if w.Options.NodesWaitForCNI {
		staged, err := cniNodeStages(docs[kwokNodeInitialize], docs[kwokNodeHeartbeat])
		if err != nil {
			return err
		}
		docs[kwokNodeInitialize], docs[kwokNodeHeartbeat] = bytes.Join(staged, []byte("\n---\n")), nil
	}
	var cfg bytes.Buffer
	for _, f := range files {
		if docs[f] == nil {
			continue
		}
		cfg.WriteString("---\n")
		cfg.Write(docs[f])
		cfg.WriteString("\n")
	}
	if w.Options.LocalPath {
		cfg.WriteString("---\n" + kwokLocalPathHelperStage)
	}
	cfgPath := filepath.Join(w.Dir, "kwok.yaml")
	if err := os.WriteFile(cfgPath, cfg.Bytes(), 0o644); err != nil {
		return err
	}
	for _, n := range Nodes {
		if err := w.createNode(ctx, n); err != nil {
			return err
		}
	}
	args := []string{
		"--kubeconfig=" + w.Kubeconfig,
		"--config=" + cfgPath,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=127.0.0.1",
	}
	if w.Options.Metrics {
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		p := strconv.Itoa(ports[0])
		args = append(args,
			"--node-port="+p,
			"--server-address=127.0.0.1:"+p,
			"--tls-cert-file="+w.certs.kubelet.certFile,
			"--tls-private-key-file="+w.certs.kubelet.keyFile,
		)
	}
	if err := w.run("kwok", bins["kwok"], args...); err != nil {
		return err
	}
	what, settled := "the KWOK nodes hestia, heracles and nyx to be Ready", nodeReady
	if w.Options.NodesWaitForCNI {
		sel := w.Options.CNIPodSelector
		if sel == "" {
			sel = DefaultCNIPodSelector
		}
		if err := w.watchCNIPods(w.background(), sel); err != nil {
			return err
		}
		// Up and posting status, but NotReady until a CNI pod runs there.
		what, settled = "the KWOK nodes hestia, heracles and nyx to report NotReady (no CNI yet)", func(n *corev1.Node) bool {
			return nodeReady(n) || nodeNetworkNotReady(n)
		}
	}
	return w.poll(ctx, what, func(ctx context.Context) (bool, error) {
		for _, n := range Nodes {
			node, err := w.Client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if !settled(node) {
				return false, nil
			}
		}
		return true, nil
	})
}

// nodeNetworkNotReady reports whether the node says NotReady for want of a
// CNI, as NodesWaitForCNI makes it.
func nodeNetworkNotReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionFalse && c.Reason == NetworkNotReadyReason && c.Message == NetworkNotReadyMessage
		}
	}
	return false
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// createNode creates one node shaped like a K3s server of the homelab: the
// labels K3s sets, its arch, and capacity (set before KWOK starts, so
// KWOK keeps it).
func (w *World) createNode(ctx context.Context, n Node) error {
	annotations := map[string]string{
		"kwok.x-k8s.io/node":           "fake",
		"node.alpha.kubernetes.io/ttl": "0",
		"k3s.io/hostname":              n.Name,
		"k3s.io/internal-ip":           "127.0.0.1",
	}
	if w.Options.Metrics {
		annotations["metrics.k8s.io/resource-metrics-path"] = "/metrics/nodes/" + n.Name + "/metrics/resource"
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: n.Name,
			Labels: map[string]string{
				"kubernetes.io/arch":                    n.Arch,
				"kubernetes.io/os":                      "linux",
				"kubernetes.io/hostname":                n.Name,
				"beta.kubernetes.io/arch":               n.Arch,
				"beta.kubernetes.io/os":                 "linux",
				"node.kubernetes.io/instance-type":      "k3s",
				"node-role.kubernetes.io/control-plane": "true",
				"node-role.kubernetes.io/master":        "true",
				"node-role.kubernetes.io/etcd":          "true",
				"type":                                  "kwok",
			},
			Annotations: annotations,
		},
	}
	created, err := w.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = w.Client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("create node %s: %w", n.Name, err)
	}
	res := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(n.CPU),
		corev1.ResourceMemory:           resource.MustParse(n.Memory),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	created.Status.Capacity = res
	created.Status.Allocatable = res
	created.Status.NodeInfo = corev1.NodeSystemInfo{
		Architecture:            n.Arch,
		OperatingSystem:         "linux",
		OSImage:                 "Debian GNU/Linux 12 (bookworm)",
		KubeletVersion:          "v1.34.3+k3s1",
		KubeProxyVersion:        "v1.34.3+k3s1",
		ContainerRuntimeVersion: "containerd://2.1.5-k3s1",
		KernelVersion:           "6.1.0-kwok",
	}
	if _, err := w.Client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set status of node %s: %w", n.Name, err)
	}
	return nil
}

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// startMetricsServer runs metrics-server on loopback, registers it as the
// metrics.k8s.io API and waits until the API server reports it Available.
func (w *World) startMetricsServer(ctx context.Context, bins map[string]string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	port := ports[0]
	if err := w.run("metrics-server", bins["metrics-server"],
		"--secure-port="+strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--cert-dir="+filepath.Join(w.Dir, "pki", "metrics-server"),
		"--kubeconfig="+w.Kubeconfig,
		"--authentication-kubeconfig="+w.Kubeconfig,
		"--authorization-kubeconfig="+w.Kubeconfig,
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-use-node-status-port",
		"--kubelet-insecure-tls",
		"--metric-resolution=15s",
	); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-server", Namespace: "kube-system"},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(port)}},
		},
	}
	if _, err := w.Client.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service kube-system/metrics-server: %w", err)
	}
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": "v1beta1.metrics.k8s.io"},
		"spec": map[string]any{
			"group":                 "metrics.k8s.io",
			"version":               "v1beta1",
			"groupPriorityMinimum":  int64(100),
			"versionPriority":       int64(100),
			"insecureSkipTLSVerify": true,
			"service":               map[string]any{"name": "metrics-server", "namespace": "kube-system", "port": int64(port)},
		},
	}}
	if _, err := w.Dynamic.Resource(apiServiceGVR).Apply(ctx, "v1beta1.metrics.k8s.io", apiService, metav1.ApplyOptions{FieldManager: "testworld", Force: true}); err != nil {
		return fmt.Errorf("register APIService v1beta1.metrics.k8s.io: %w", err)
	}
	return w.poll(ctx, "APIService v1beta1.metrics.k8s.io to be Available", func(ctx context.Context) (bool, error) {
		u, err := w.Dynamic.Resource(apiServiceGVR).Get(ctx, "v1beta1.metrics.k8s.io", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Available" {
				if m["status"] == "True" {
					return true, nil
				}
				return false, fmt.Errorf("%v: %v", m["reason"], m["message"])
			}
		}
		return false, nil
	})
}

// startVPARecommender runs the real VPA recommender and waits until it
// serves its metrics endpoint.
func (w *World) startVPARecommender(ctx context.Context, bins map[string]string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	if err := w.run("vpa-recommender", bins["vpa-recommender"],
		"--kubeconfig="+w.Kubeconfig,
		"--recommender-interval=10s",
		"--address="+addr,
		"--v=2",
	); err != nil {
		return err
	}
	return w.poll(ctx, "vpa-recommender to serve http://"+addr+"/metrics", func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}
