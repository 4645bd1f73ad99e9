package stages

import (
	"context"
	"sync"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"migrate-tui/internal/status"
)

type stateOf tfjson.State

func (s *stateOf) State(context.Context) (*tfjson.State, error) { return (*tfjson.State)(s), nil }

// A poll re-reads only what is still rolling out: the ConfigMap (Current at
// once) is read once, the Deployment until it is Current. A unit test with
// client-go's fake dynamic client, which counts the reads; the verifier
// against a real API server is TestStageAgainstTheTestWorldVerifiesItsObjects.
func TestVerifyPollsOnlyWhatIsRollingOut(t *testing.T) {
	res := func(addr, apiVersion, kind, name string) *tfjson.StateResource {
		return &tfjson.StateResource{Address: addr, Type: "kubectl_manifest",
			AttributeValues: map[string]any{"api_version": apiVersion, "kind": kind, "name": name, "namespace": "poc"}}
	}
	st := &stateOf{Values: &tfjson.StateValues{RootModule: &tfjson.StateModule{ChildModules: []*tfjson.StateModule{{
		Address: "module.storage[0]",
		Resources: []*tfjson.StateResource{
			res("module.storage[0].kubectl_manifest.settings", "v1", "ConfigMap", "settings"),
			res("module.storage[0].kubectl_manifest.deploy", "apps/v1", "Deployment", "app"),
		},
	}}}}}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings", "namespace": "poc"}}}
	deploy := func(current bool) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "app", "namespace": "poc", "generation": int64(1)},
			"spec":     map[string]any{"replicas": int64(1)},
			"status":   map[string]any{"observedGeneration": int64(0)}}}
		if current {
			u.Object["status"] = map[string]any{"observedGeneration": int64(1), "replicas": int64(1), "updatedReplicas": int64(1),
				"readyReplicas": int64(1), "availableReplicas": int64(1),
				"conditions": []any{map[string]any{"type": "Available", "status": "True"}}}
		}
		return u
	}
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	depGVR := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{cmGVR: "ConfigMapList", depGVR: "DeploymentList"}, cm)
	var mu sync.Mutex
	gets := map[string]int{}
	dyn.PrependReactor("get", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		gets[a.GetResource().Resource]++
		if a.GetResource().Resource == "deployments" {
			return true, deploy(gets["deployments"] >= 2), nil
		}
		return false, nil, nil
	})
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)

	v := ObjectsVerifier{State: st, Dynamic: dyn, Mapper: mapper, Wait: 2 * time.Minute}
	storage, _ := ByName("storage")
	out, err := v.Verify(context.Background(), storage)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Status != status.Pass || out[1].Status != status.Pass {
		t.Fatalf("results = %+v, want both passing", out)
	}
	if gets["configmaps"] != 1 || gets["deployments"] != 2 {
		t.Fatalf("reads = %v, want the ConfigMap once and the Deployment twice", gets)
	}
}
