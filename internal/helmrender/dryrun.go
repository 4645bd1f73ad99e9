package helmrender

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// ObjectError is one rendered object the API server refused.
type ObjectError struct {
	Release string
	Object  string // Kind namespace/name
	Err     error
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("HelmChart %s: the API server refuses %s: %v", e.Release, e.Object, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// DryRun checks a rendered release against an API server the way an install
// would meet it: the chart's crds/ are created for real first (Helm does so
// before rendering anything else) and must turn Established, the release
// namespace is created for real, and every object and hook is server-side
// applied with dryRun=All, so the API server's validation (CRD schemas and
// enums, field names, built-in rules) decides. Every refusal is returned
// (errors.Join of *ObjectError).
func DryRun(ctx context.Context, cfg *rest.Config, r *Rendered) error {
	quiet := rest.CopyConfig(cfg)
	quiet.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(quiet)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(quiet)
	if err != nil {
		return err
	}
	if err := applyCRDs(ctx, dyn, r); err != nil {
		return err
	}
	if r.Namespace != "" {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.Namespace}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("HelmChart %s: create namespace %s: %w", r.Release, r.Namespace, err)
		}
	}
	dc, err := discovery.NewDiscoveryClientForConfig(quiet)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	var errs []error
	for _, o := range append(append([]*unstructured.Unstructured{}, r.Objects...), r.Hooks...) {
		if o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" {
			// The chart's own namespaces (Cilium's cilium-secrets) are made
			// for real: the objects that follow live in them.
			if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.GetName(), Labels: o.GetLabels()}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				errs = append(errs, &ObjectError{Release: r.Release, Object: describe(o), Err: err})
			}
			continue
		}
		if err := dryRunOne(ctx, dyn, mapper, r, o); err != nil {
			errs = append(errs, &ObjectError{Release: r.Release, Object: describe(o), Err: err})
		}
	}
	return errors.Join(errs...)
}

func dryRunOne(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, r *Rendered, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("the API server does not serve %s (a CRD the chart needs is missing): %w", gvk, err)
	}
	obj := o.DeepCopy()
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(r.Namespace)
		}
		ri = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
	}
	_, err = ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "helm", Force: true, DryRun: []string{metav1.DryRunAll}})
	return err
}

// applyCRDs creates the chart's crds/ for real and waits until each is
// Established. A conversion webhook is dropped: nothing serves it here.
func applyCRDs(ctx context.Context, dyn dynamic.Interface, r *Rendered) error {
	if len(r.CRDs) == 0 {
		return nil
	}
	for _, crd := range r.CRDs {
		c := crd.DeepCopy()
		if s, _, _ := unstructured.NestedString(c.Object, "spec", "conversion", "strategy"); s == "Webhook" {
			_ = unstructured.SetNestedMap(c.Object, map[string]any{"strategy": "None"}, "spec", "conversion")
		}
		if _, err := dyn.Resource(crdGVR).Apply(ctx, c.GetName(), c, metav1.ApplyOptions{FieldManager: "helm", Force: true}); err != nil {
			return &ObjectError{Release: r.Release, Object: describe(crd), Err: err}
		}
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, crd := range r.CRDs {
			got, err := dyn.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			ok := false
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
					ok = true
				}
			}
			if !ok {
				return false, nil
			}
		}
		return true, nil
	})
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() != "" {
		return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
	}
	return fmt.Sprintf("%s %s", o.GetKind(), o.GetName())
}
