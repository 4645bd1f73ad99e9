package tfcode

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkLinkerdObjects checks the policy.linkerd.io objects against Linkerd's
// documented schema (policy.linkerd.io Server v1beta3, AuthorizationPolicy,
// MeshTLSAuthentication and NetworkAuthentication v1alpha1), since the test
// world only has schemaless stand-ins for their CRDs (testworld.LinkerdStandInCRDs),
// and checks that every reference resolves to an object that was applied.
func checkLinkerdObjects(t reporter, objs []object) {
	t.Helper()
	byKey := map[string]object{}
	n := 0
	for _, o := range objs {
		byKey[o.key] = o
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.apiVersion, "policy.linkerd.io/") {
			continue
		}
		n++
		parts := strings.SplitN(o.key, "/", 3)
		kind, ns := parts[0], parts[1]
		if ns == "" {
			t.Errorf("%s: Linkerd policy objects are namespaced", o.key)
		}
		spec, _ := nestedMap(o.obj, "spec")
		want := map[string]string{
			"Server": "policy.linkerd.io/v1beta3", "AuthorizationPolicy": "policy.linkerd.io/v1alpha1",
			"MeshTLSAuthentication": "policy.linkerd.io/v1alpha1", "NetworkAuthentication": "policy.linkerd.io/v1alpha1",
		}[kind]
		if want == "" || o.apiVersion != want {
			t.Errorf("%s: apiVersion %s, want %q", o.key, o.apiVersion, want)
			continue
		}
		switch kind {
		case "Server":
			sel, _ := nestedMap(spec, "podSelector")
			if len(sel) == 0 {
				t.Errorf("%s: spec.podSelector is required", o.key)
			}
			if spec["port"] == nil {
				t.Errorf("%s: spec.port is required", o.key)
			}
			if p, ok := spec["proxyProtocol"]; ok && !map[any]bool{"unknown": true, "HTTP/1": true, "HTTP/2": true, "gRPC": true, "opaque": true, "TLS": true}[p] {
				t.Errorf("%s: proxyProtocol %v is not one of Linkerd's", o.key, p)
			}
		case "AuthorizationPolicy":
			ref, _ := nestedMap(spec, "targetRef")
			if ref["kind"] == nil || ref["name"] == nil {
				t.Errorf("%s: spec.targetRef needs kind and name", o.key)
			} else if ref["kind"] == "Server" {
				if _, ok := byKey["Server/"+ns+"/"+ref["name"].(string)]; !ok || ref["group"] != "policy.linkerd.io" {
					t.Errorf("%s: targets Server %v (group %v) that was not applied", o.key, ref["name"], ref["group"])
				}
			}
			refs, _ := spec["requiredAuthenticationRefs"].([]any)
			if len(refs) == 0 {
				t.Errorf("%s: spec.requiredAuthenticationRefs is required", o.key)
			}
			for _, r := range refs {
				rm, _ := r.(map[string]any)
				k, _ := rm["kind"].(string)
				name, _ := rm["name"].(string)
				switch k {
				case "MeshTLSAuthentication", "NetworkAuthentication":
					if _, ok := byKey[k+"/"+ns+"/"+name]; !ok || rm["group"] != "policy.linkerd.io" {
						t.Errorf("%s: refers to %s %s (group %v) that was not applied", o.key, k, name, rm["group"])
					}
				case "ServiceAccount":
				default:
					t.Errorf("%s: requiredAuthenticationRefs kind %q is not one Linkerd accepts", o.key, k)
				}
			}
		case "MeshTLSAuthentication":
			ids, _ := spec["identities"].([]any)
			refs, _ := spec["identityRefs"].([]any)
			if (len(ids) == 0) == (len(refs) == 0) {
				t.Errorf("%s: exactly one of spec.identities and spec.identityRefs must be set", o.key)
			}
			for _, r := range refs {
				rm, _ := r.(map[string]any)
				if rm["kind"] == nil {
					t.Errorf("%s: identityRefs entry %v needs a kind", o.key, rm)
				}
			}
		case "NetworkAuthentication":
			nets, _ := spec["networks"].([]any)
			if len(nets) == 0 {
				t.Errorf("%s: spec.networks is required", o.key)
			}
			for _, nw := range nets {
				cidr, _ := nw.(map[string]any)["cidr"].(string)
				if _, err := netip.ParsePrefix(cidr); err != nil {
					t.Errorf("%s: network cidr %q: %v", o.key, cidr, err)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no policy.linkerd.io objects to check: the Linkerd combination lost its policies")
	}
}

// TestLinkerdCheckerCatchesMistakes keeps checkLinkerdObjects honest: it must
// fail on a broken reference and on a missing required field.
func TestLinkerdCheckerCatchesMistakes(t *testing.T) {
	broken := []object{
		{key: "Server/poc/echo", apiVersion: "policy.linkerd.io/v1beta3", obj: map[string]any{"spec": map[string]any{"port": "http"}}},
		{key: "AuthorizationPolicy/poc/echo", apiVersion: "policy.linkerd.io/v1alpha1", obj: map[string]any{"spec": map[string]any{
			"targetRef":                  map[string]any{"group": "policy.linkerd.io", "kind": "Server", "name": "echo"},
			"requiredAuthenticationRefs": []any{map[string]any{"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "missing"}},
		}}},
	}
	var rec recorder
	checkLinkerdObjects(&rec, broken)
	if len(rec.errs) < 2 {
		t.Fatal("checkLinkerdObjects accepted a Server without podSelector and a reference to a missing MeshTLSAuthentication")
	}
}

// reporter is the part of testing.T the checks use.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Error(args ...any)
}

// recorder collects a check's failures without failing the test.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }

// TestIstioPinInStep: the CRDs installed in the test world come from the
// same Istio release the service-mesh module installs.
func TestIstioPinInStep(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "k8s", "core", "service-mesh", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`istio\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil || "v"+string(m[1]) != istioAPIVersion() {
		t.Fatalf("k8s/core/service-mesh pins Istio %q; the test installs CRDs of istio.io/api %s: keep them equal", m, istioAPIVersion())
	}
}

// TestEchoCheckCatchesExtraClient keeps checkEchoOnlyFromWhoami honest.
func TestEchoCheckCatchesExtraClient(t *testing.T) {
	rule := func(name string) any {
		return map[string]any{"fromEndpoints": []any{map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": name}}}}
	}
	objs := []object{
		{key: "CiliumNetworkPolicy/poc/default-deny", yaml: "x", obj: map[string]any{}},
		{key: "CiliumNetworkPolicy/poc/echo", yaml: "x", obj: map[string]any{"spec": map[string]any{"ingress": []any{rule("whoami"), rule("overseerr")}}}},
	}
	var rec recorder
	checkEchoOnlyFromWhoami(&rec, objs, "cilium", "poc")
	if len(rec.errs) == 0 {
		t.Fatal("checkEchoOnlyFromWhoami accepted echo admitting overseerr")
	}
	objs[1].obj["spec"] = map[string]any{"ingress": []any{rule("whoami")}}
	rec = recorder{}
	checkEchoOnlyFromWhoami(&rec, objs, "cilium", "poc")
	if len(rec.errs) != 0 {
		t.Fatalf("checkEchoOnlyFromWhoami refused a correct policy: %v", rec.errs)
	}
}
