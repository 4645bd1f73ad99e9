package checks

import (
	"context"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Resource types the checks read through the dynamic client.
var (
	gvrVPA                = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}
	gvrExternalSecret     = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	gvrClusterSecretStore = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "clustersecretstores"}
	gvrIngressRoute       = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "ingressroutes"}
	gvrCiliumPolicy       = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}
	gvrPeerAuthentication = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1", Resource: "peerauthentications"}
	gvrAuthzPolicy        = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1", Resource: "authorizationpolicies"}
	gvrLinkerdAuthz       = schema.GroupVersionResource{Group: "policy.linkerd.io", Version: "v1alpha1", Resource: "authorizationpolicies"}
	gvrNodeMetrics        = schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "nodes"}
	gvrPodMetrics         = schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "pods"}
)

// lazy computes a value once; every later caller gets the same value and error.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (l *lazy[T]) get(f func() (T, error)) (T, error) {
	l.once.Do(func() { l.v, l.err = f() })
	return l.v, l.err
}

// Snapshot lists each resource type at most once and shares the answer
// between every check of a run, so a run costs one request per type no
// matter how many services the cluster holds. It is safe for concurrent use.
type Snapshot struct {
	kube kubernetes.Interface
	dyn  dynamic.Interface
	ns   string

	nodes        lazy[[]corev1.Node]
	pods         lazy[[]corev1.Pod] // every namespace
	deployments  lazy[[]appsv1.Deployment]
	statefulSets lazy[[]appsv1.StatefulSet]
	cronJobs     lazy[[]batchv1.CronJob]
	jobs         lazy[[]batchv1.Job]
	slices       lazy[[]discoveryv1.EndpointSlice]
	ingresses    lazy[[]networkingv1.Ingress]
	configMaps   lazy[[]corev1.ConfigMap]

	mu   sync.Mutex
	dyns map[string]*lazy[[]unstructured.Unstructured]
}

// NewSnapshot reads namespace-scoped types from ns.
func NewSnapshot(kube kubernetes.Interface, dyn dynamic.Interface, ns string) *Snapshot {
	return &Snapshot{kube: kube, dyn: dyn, ns: ns, dyns: map[string]*lazy[[]unstructured.Unstructured]{}}
}

// Namespace is the PoC namespace the snapshot reads.
func (s *Snapshot) Namespace() string { return s.ns }

func (s *Snapshot) Nodes(ctx context.Context) ([]corev1.Node, error) {
	return s.nodes.get(func() ([]corev1.Node, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

// Pods lists pods in every namespace (SC-010 needs the platform's pods too).
func (s *Snapshot) Pods(ctx context.Context) ([]corev1.Pod, error) {
	return s.pods.get(func() ([]corev1.Pod, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

// PoCPods are the pods in the PoC namespace.
func (s *Snapshot) PoCPods(ctx context.Context) ([]corev1.Pod, error) {
	all, err := s.Pods(ctx)
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range all {
		if p.Namespace == s.ns {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *Snapshot) Deployments(ctx context.Context) ([]appsv1.Deployment, error) {
	return s.deployments.get(func() ([]appsv1.Deployment, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.AppsV1().Deployments(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

func (s *Snapshot) StatefulSets(ctx context.Context) ([]appsv1.StatefulSet, error) {
	return s.statefulSets.get(func() ([]appsv1.StatefulSet, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.AppsV1().StatefulSets(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

// CronJobs and Jobs: scaffolded services made from Nomad's periodic and
// batch jobs run as these.
func (s *Snapshot) CronJobs(ctx context.Context) ([]batchv1.CronJob, error) {
	return s.cronJobs.get(func() ([]batchv1.CronJob, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.BatchV1().CronJobs(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

func (s *Snapshot) Jobs(ctx context.Context) ([]batchv1.Job, error) {
	return s.jobs.get(func() ([]batchv1.Job, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.BatchV1().Jobs(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

func (s *Snapshot) EndpointSlices(ctx context.Context) ([]discoveryv1.EndpointSlice, error) {
	return s.slices.get(func() ([]discoveryv1.EndpointSlice, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.DiscoveryV1().EndpointSlices(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

func (s *Snapshot) Ingresses(ctx context.Context) ([]networkingv1.Ingress, error) {
	return s.ingresses.get(func() ([]networkingv1.Ingress, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.NetworkingV1().Ingresses(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

func (s *Snapshot) ConfigMaps(ctx context.Context) ([]corev1.ConfigMap, error) {
	return s.configMaps.get(func() ([]corev1.ConfigMap, error) {
		if s.kube == nil {
			return nil, errNoDynamic
		}
		l, err := s.kube.CoreV1().ConfigMaps(s.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

// List lists a dynamic resource type in namespace ns ("" = cluster scope or
// every namespace), once per run.
func (s *Snapshot) List(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]unstructured.Unstructured, error) {
	key := gvr.String() + "/" + ns
	s.mu.Lock()
	l, ok := s.dyns[key]
	if !ok {
		l = &lazy[[]unstructured.Unstructured]{}
		s.dyns[key] = l
	}
	s.mu.Unlock()
	return l.get(func() ([]unstructured.Unstructured, error) {
		if s.dyn == nil {
			return nil, errNoDynamic
		}
		var ri dynamic.ResourceInterface = s.dyn.Resource(gvr)
		if ns != "" {
			ri = s.dyn.Resource(gvr).Namespace(ns)
		}
		l, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}
