package testworld

import (
	"context"
	"errors"
	"fmt"
	"migrate-tui/internal/manifest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"migrate-tui/internal/testtools"
)

// CRDSource is where one project's CRDs are read from: files (globs) inside
// a Go module in the module cache, at the version hack/versions.env pins.
type CRDSource struct {
	Name       string
	VersionKey string // key in hack/versions.env
	Module     string
	Globs      []string // relative to the module directory
}

// CRDSources are the CRDs the test world installs. They are never copied
// into the repository.
var CRDSources = []CRDSource{
	{Name: "Vertical Pod Autoscaler", VersionKey: "VPA_VERSION", Module: "k8s.io/autoscaler/vertical-pod-autoscaler",
		Globs: []string{"deploy/vpa-v1-crd-gen.yaml"}},
	{Name: "External Secrets", VersionKey: "EXTERNAL_SECRETS_VERSION", Module: "github.com/external-secrets/external-secrets",
		Globs: []string{"deploy/crds/bundle.yaml"}},
	{Name: "Traefik", VersionKey: "TRAEFIK_VERSION", Module: "github.com/traefik/traefik/v3",
		Globs: []string{"docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"}},
	{Name: "Cilium", VersionKey: "CILIUM_VERSION", Module: "github.com/cilium/cilium",
		Globs: []string{"pkg/k8s/apis/cilium.io/client/crds/v2/*.yaml"}},
	{Name: "K3s Helm controller", VersionKey: "K3S_HELM_CONTROLLER_VERSION", Module: "github.com/k3s-io/helm-controller",
		Globs: []string{"pkg/crds/yaml/generated/*.yaml"}},
	{Name: "Istio", VersionKey: "ISTIO_API_VERSION", Module: "istio.io/api",
		Globs: []string{"kubernetes/customresourcedefinitions.gen.yaml"}},
	// Linkerd's CRDs ship only as Helm templates, and github.com/linkerd/linkerd2
	// is not served by the Go module proxy: LinkerdStandInCRDs stands in.
}

// LinkerdStandIns are Linkerd's policy kinds the services stage creates.
var LinkerdStandIns = []struct {
	Kind, Plural string
	Versions     []string
}{
	{"Server", "servers", []string{"v1beta3"}},
	{"AuthorizationPolicy", "authorizationpolicies", []string{"v1alpha1"}},
	{"MeshTLSAuthentication", "meshtlsauthentications", []string{"v1alpha1"}},
	{"NetworkAuthentication", "networkauthentications", []string{"v1alpha1"}},
}

// LinkerdStandInCRDs are stand-ins for Linkerd's policy CRDs, which no Go
// module carries (they are Helm templates in Linkerd's chart). They accept
// any spec (x-kubernetes-preserve-unknown-fields), so the Terraform life of
// those objects (create, no diff, destroy) runs against the API server and
// the sandbox's services stage can apply with service_mesh = linkerd; their
// content is checked against Linkerd's documented schema by internal/tfcode's
// checkLinkerdObjects instead. Each carries the annotation
// migrate-tui.io/stand-in saying so.
func LinkerdStandInCRDs() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, c := range LinkerdStandIns {
		var vs []any
		for i, v := range c.Versions {
			vs = append(vs, map[string]any{
				"name": v, "served": true, "storage": i == 0,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			})
		}
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata": map[string]any{
				"name":        c.Plural + ".policy.linkerd.io",
				"annotations": map[string]any{"migrate-tui.io/stand-in": "Linkerd's CRDs are not on the Go module proxy; see internal/testworld/crds.go"},
			},
			"spec": map[string]any{
				"group": "policy.linkerd.io", "scope": "Namespaced",
				"names":    map[string]any{"kind": c.Kind, "plural": c.Plural, "singular": strings.ToLower(c.Kind), "listKind": c.Kind + "List"},
				"versions": vs,
			},
		}})
	}
	return out
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// LoadCRDs reads the CRDs of every source from the module cache.
func LoadCRDs() ([]*unstructured.Unstructured, error) {
	var all []*unstructured.Unstructured
	for _, s := range CRDSources {
		crds, err := s.Load()
		if err != nil {
			return nil, err
		}
		all = append(all, crds...)
	}
	return append(all, LinkerdStandInCRDs()...), nil
}

// Load reads this source's CRDs.
func (s CRDSource) Load() ([]*unstructured.Unstructured, error) {
	version, err := testtools.Version(s.VersionKey)
	if err != nil {
		return nil, err
	}
	dir, err := testtools.ModuleDir(s.Module, version)
	if err != nil {
		return nil, fmt.Errorf("%s CRDs: %w (%s)", s.Name, err, testtools.BootstrapHint)
	}
	var files []string
	for _, g := range s.Globs {
		m, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s CRDs: no file matches %v in %s@%s", s.Name, s.Globs, s.Module, version)
	}
	var crds []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := manifest.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%s CRDs: %s: %w", s.Name, f, err)
		}
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" {
				continue
			}
			noConversionWebhook(o)
			crds = append(crds, o)
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("%s CRDs: no CustomResourceDefinition in %v", s.Name, files)
	}
	return crds, nil
}

// noConversionWebhook drops a conversion webhook: nothing serves it in the
// test world, and with it every read in another version would fail.
func noConversionWebhook(o *unstructured.Unstructured) {
	if s, _, _ := unstructured.NestedString(o.Object, "spec", "conversion", "strategy"); s == "Webhook" {
		_ = unstructured.SetNestedMap(o.Object, map[string]any{"strategy": "None"}, "spec", "conversion")
	}
}

// installCRDs applies every CRD server-side and waits until all are
// established.
func (w *World) installCRDs(ctx context.Context) error {
	crds, err := LoadCRDs()
	if err != nil {
		return err
	}
	return w.ApplyCRDs(ctx, crds)
}

// ApplyCRDs applies CRDs with server-side apply and waits until each is
// Established.
func (w *World) ApplyCRDs(ctx context.Context, crds []*unstructured.Unstructured) error {
	// Some upstream schemas use formats the API server does not know; its
	// warnings about them are noise here.
	quiet := rest.CopyConfig(w.RESTConfig)
	quiet.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(quiet)
	if err != nil {
		return err
	}
	work := make(chan *unstructured.Unstructured)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for crd := range work {
				_, err := dyn.Resource(crdGVR).Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: "testworld", Force: true})
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("apply CRD %s: %w", crd.GetName(), err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, crd := range crds {
		work <- crd
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, crd := range crds {
		want[crd.GetName()] = true
	}
	return w.poll(ctx, fmt.Sprintf("%d CRDs to be Established", len(want)), func(ctx context.Context) (bool, error) {
		list, err := w.Dynamic.Resource(crdGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		established := 0
		for _, item := range list.Items {
			if !want[item.GetName()] {
				continue
			}
			conds, _, _ := unstructured.NestedSlice(item.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					established++
				}
			}
		}
		return established == len(want), nil
	})
}
