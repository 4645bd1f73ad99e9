package testworld

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"
)

// CNI-aware nodes (Options.NodesWaitForCNI). A K3s node with
// `flannel-backend: none` has no CNI config in /etc/cni/net.d until a CNI
// agent (Cilium's DaemonSet) writes one; until then containerd's CRI reports
// NetworkReady=false and the kubelet posts Ready=False with that reason.
// Sources: kubelet pkg/kubelet/kubelet.go updateRuntimeUp ("container
// runtime network not ready: %v" over the CRI RuntimeCondition) and
// pkg/kubelet/nodestatus/setters.go ReadyCondition (reason KubeletNotReady)
// in k8s.io/kubernetes v1.34.3; containerd's CRI Status
// (internal/cri/server/status.go: reason NetworkPluginNotReady, "Network
// plugin returns error: %v") over go-cni's "cni plugin not initialized".
//
// KWOK Stages (sigs.k8s.io/kwok v0.8.0 kustomize/stage/node) only see the
// Node object, so the test world runs a small watcher that plays the CNI
// agent's part on the node: when a CNI DaemonSet pod runs there it marks the
// node with cniConfigAnnotation (the config file now exists), and the stages
// below turn the node Ready. As on a real node, the config stays when the
// pod goes away.
const (
	// DefaultCNIPodSelector selects Cilium's agent pods: its chart labels
	// the DaemonSet cilium's pods k8s-app=cilium
	// (install/kubernetes/cilium/templates/cilium-agent/daemonset.yaml).
	DefaultCNIPodSelector = "k8s-app=cilium"
	// CNINamespace is where the CNI DaemonSet runs (Cilium's HelmChart
	// installs into kube-system).
	CNINamespace = "kube-system"
	// NetworkNotReadyReason and NetworkNotReadyMessage are what a kubelet
	// over containerd posts in the Ready condition without a CNI config.
	NetworkNotReadyReason  = "KubeletNotReady"
	NetworkNotReadyMessage = "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"

	cniConfigAnnotation = "testworld.migrate-tui/cni-config"
	cniConfigPresent    = "present"
)

// cniAnnotationKey is the jq path of cniConfigAnnotation in a KWOK selector.
var cniAnnotationKey = `.metadata.annotations["` + cniConfigAnnotation + `"]`

// cniNodeStages derives the node stages of a world whose nodes wait for a
// CNI from KWOK's own node-initialize and node-heartbeat stages:
//   - node-initialize (Ready) only once the node has its CNI config;
//   - node-network-not-ready: KWOK's initialize with Ready=False and the
//     kubelet's reason and message, for nodes without CNI config;
//   - node-network-not-ready-heartbeat: KWOK's heartbeat for those nodes,
//     so they keep posting status as a kubelet does (else the node
//     lifecycle controller would mark them Unknown);
//   - node-heartbeat unchanged (it selects Ready nodes only).
func cniNodeStages(initialize, heartbeat []byte) ([][]byte, error) {
	ready, err := parseStage(initialize)
	if err != nil {
		return nil, err
	}
	addExpression(ready, cniAnnotationKey, "In", cniConfigPresent)

	notReady, err := parseStage(initialize)
	if err != nil {
		return nil, err
	}
	notReady["metadata"] = map[string]any{"name": "node-network-not-ready"}
	setExpressions(notReady,
		expr(cniAnnotationKey, "DoesNotExist"),
		expr(`.status.conditions.[] | select( .type == "Ready" ) | .reason`, "NotIn", NetworkNotReadyReason),
	)
	if err := networkNotReadyTemplate(notReady); err != nil {
		return nil, fmt.Errorf("KWOK node-initialize stage: %w", err)
	}

	notReadyBeat, err := parseStage(heartbeat)
	if err != nil {
		return nil, err
	}
	notReadyBeat["metadata"] = map[string]any{"name": "node-network-not-ready-heartbeat"}
	setExpressions(notReadyBeat,
		expr(cniAnnotationKey, "DoesNotExist"),
		expr(".status.phase", "In", "Running"),
		expr(`.status.conditions.[] | select( .type == "Ready" ) | .reason`, "In", NetworkNotReadyReason),
	)
	if err := networkNotReadyTemplate(notReadyBeat); err != nil {
		return nil, fmt.Errorf("KWOK node-heartbeat stage: %w", err)
	}

	var out [][]byte
	for _, s := range []map[string]any{ready, notReady, notReadyBeat} {
		b, err := yaml.Marshal(s)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return append(out, heartbeat), nil
}

func parseStage(b []byte) (map[string]any, error) {
	var s map[string]any
	if err := yaml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("KWOK stage: %w", err)
	}
	if s["kind"] != "Stage" {
		return nil, fmt.Errorf("KWOK stage: kind %v, want Stage", s["kind"])
	}
	return s, nil
}

func expr(key, op string, values ...string) map[string]any {
	e := map[string]any{"key": key, "operator": op}
	if len(values) > 0 {
		e["values"] = values
	}
	return e
}

func selector(s map[string]any) map[string]any {
	spec, _ := s["spec"].(map[string]any)
	sel, _ := spec["selector"].(map[string]any)
	if sel == nil {
		sel = map[string]any{}
		spec["selector"] = sel
	}
	return sel
}

func addExpression(s map[string]any, key, op string, values ...string) {
	sel := selector(s)
	list, _ := sel["matchExpressions"].([]any)
	sel["matchExpressions"] = append(list, expr(key, op, values...))
}

func setExpressions(s map[string]any, exprs ...map[string]any) {
	list := make([]any, len(exprs))
	for i, e := range exprs {
		list[i] = e
	}
	selector(s)["matchExpressions"] = list
}

// networkNotReadyTemplate rewrites the conditions KWOK renders from its
// NodeConditions so that Ready is False with the kubelet's reason and
// message; the other conditions stay as KWOK renders them. It fails when
// KWOK's template no longer has the lines it rewrites.
func networkNotReadyTemplate(s map[string]any) error {
	spec, _ := s["spec"].(map[string]any)
	next, _ := spec["next"].(map[string]any)
	tmpl, _ := next["statusTemplate"].(string)
	for field, value := range map[string]string{
		"message": NetworkNotReadyMessage,
		"reason":  NetworkNotReadyReason,
		"status":  "False",
	} {
		line := field + ": {{ ." + field + " | Quote }}"
		if strings.Count(tmpl, line) != 1 {
			return fmt.Errorf("its statusTemplate has %d lines %q, want 1 (KWOK's template changed?)", strings.Count(tmpl, line), line)
		}
		tmpl = strings.Replace(tmpl, line,
			fmt.Sprintf(`%s: {{ if eq .type "Ready" }}%q{{ else }}{{ .%s | Quote }}{{ end }}`, field, value, field), 1)
	}
	next["statusTemplate"] = tmpl
	return nil
}

// watchCNIPods marks a node as having its CNI config once a Running pod of
// a DaemonSet matching sel in CNINamespace is on it. It runs until ctx ends.
func (w *World) watchCNIPods(ctx context.Context, sel string) error {
	factory := informers.NewSharedInformerFactoryWithOptions(w.Client, 0,
		informers.WithNamespace(CNINamespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
	inf := factory.Core().V1().Pods().Informer()
	marked := map[string]bool{}
	onPod := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Spec.NodeName == "" || pod.Status.Phase != corev1.PodRunning || !ownedByDaemonSet(pod) {
			return
		}
		if marked[pod.Spec.NodeName] {
			return
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, cniConfigAnnotation, cniConfigPresent)
		// Retried until it lands (or the world stops): the pod may not
		// change again to give another chance.
		_ = wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			_, err := w.Client.CoreV1().Nodes().Patch(ctx, pod.Spec.NodeName, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			return err == nil, nil
		})
		marked[pod.Spec.NodeName] = true
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onPod,
		UpdateFunc: func(_, obj any) { onPod(obj) },
	}); err != nil {
		return err
	}
	go inf.Run(ctx.Done())
	return nil
}

func ownedByDaemonSet(pod *corev1.Pod) bool {
	for _, o := range pod.OwnerReferences {
		if o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}
