package tfcode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
//
// (The world itself carries stand-ins for Linkerd's policy CRDs:
// testworld.LinkerdStandInCRDs.)
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
	return w.ApplyCRDs(ctx, crds)
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
