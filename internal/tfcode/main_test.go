package tfcode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
)

// world is the one test world of this package.
var world *testworld.World

// istioAPIVersion is the istio.io/api module (hack/versions.env) whose CRDs
// match the Istio charts k8s/core/service-mesh pins (TestIstioPinInStep keeps
// them equal).
func istioAPIVersion() string {
	v, err := testtools.Version("ISTIO_API_VERSION")
	if err != nil {
		panic(err)
	}
	return v
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "tfcode-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	pluginCache = tmp

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Controllers: the namespace controller finishes namespace deletion (a
	// destroy must leave nothing) and the token controller fills the Vault
	// token reviewer's Secret.
	w, err := testworld.Start(ctx, testworld.Options{CRDs: true, Controllers: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "tfcode: the test world did not start: %v\n", err)
		return 1
	}
	defer w.Stop()
	world = w
	if err := installExtraCRDs(ctx, w); err != nil {
		fmt.Fprintf(os.Stderr, "tfcode: %v\n", err)
		return 1
	}
	return m.Run()
}

// installExtraCRDs adds what the shared world does not carry:
//   - Istio's real CRDs, from the istio.io/api Go module;
//   - stand-ins for Linkerd's policy CRDs. Linkerd publishes no Go module
//     with its CRDs (they are Helm templates in its chart), so they cannot be
//     had from the Go module proxy. The stand-ins accept any spec (schema
//     x-kubernetes-preserve-unknown-fields) so the Terraform lifecycle of those
//     objects (create, no diff, destroy) is exercised against the API server;
//     their content is checked against Linkerd's documented schema by
//     checkLinkerdObjects instead.
func installExtraCRDs(ctx context.Context, w *testworld.World) error {
	dir, err := testtools.ModuleDir("istio.io/api", istioAPIVersion())
	if err != nil {
		return fmt.Errorf("istio CRDs: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "kubernetes", "customresourcedefinitions.gen.yaml"))
	if err != nil {
		return fmt.Errorf("istio CRDs: %w", err)
	}
	crds, err := decodeObjects(b)
	if err != nil {
		return fmt.Errorf("istio CRDs: %w", err)
	}
	for _, c := range linkerdStandIns {
		crds = append(crds, standInCRD("policy.linkerd.io", c.kind, c.plural, c.versions))
	}
	return w.ApplyCRDs(ctx, crds)
}

var linkerdStandIns = []struct {
	kind, plural string
	versions     []string
}{
	{"Server", "servers", []string{"v1beta3"}},
	{"AuthorizationPolicy", "authorizationpolicies", []string{"v1alpha1"}},
	{"MeshTLSAuthentication", "meshtlsauthentications", []string{"v1alpha1"}},
	{"NetworkAuthentication", "networkauthentications", []string{"v1alpha1"}},
}

func standInCRD(group, kind, plural string, versions []string) *unstructured.Unstructured {
	var vs []any
	for i, v := range versions {
		vs = append(vs, map[string]any{
			"name": v, "served": true, "storage": i == 0,
			"schema": map[string]any{"openAPIV3Schema": map[string]any{
				"type": "object", "x-kubernetes-preserve-unknown-fields": true,
			}},
		})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata": map[string]any{
			"name":        plural + "." + group,
			"annotations": map[string]any{"migrate-tui.io/stand-in": "Linkerd's CRDs are not on the Go module proxy; see internal/tfcode"},
		},
		"spec": map[string]any{
			"group": group, "scope": "Namespaced",
			"names":    map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
			"versions": vs,
		},
	}}
}

// decodeObjects splits a YAML stream into objects, skipping empty documents.
func decodeObjects(b []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return nil, err
		}
		if len(o) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: o})
	}
}
