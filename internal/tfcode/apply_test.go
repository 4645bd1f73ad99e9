package tfcode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

// combo is one set of the wizard's decisions, as overrides of
// terraform.tfvars.example (the combination recommended for this homelab).
type combo struct {
	name    string
	vars    map[string]any
	want    []string // kind/namespace/name that must be applied
	wantNot []string // kinds that must not be applied
	check   func(t *testing.T, ctx context.Context, objs []object)
}

// combos covers every option of every decision at least once:
// topology ha (recommended) / 1-server (linkerd); storage local-path / longhorn
// / glusterfs-hostpath / glusterfs-nfs; mesh cilium (kubernetes and
// cluster-pool IPAM) / linkerd / istio-ambient / none; ingress
// traefik-behind-external / bundled-traefik / external-direct; vault
// external-secrets / agent-injector; VPA Off / Auto / Recreate / Initial
// (InPlaceOrRecreate is not offered: the installed VPA 1.4.1's CRD lacks it);
// and a run with only some stages enabled.
var combos = []combo{
	{
		name: "recommended",
		vars: map[string]any{},
		want: []string{
			"CiliumNetworkPolicy/poc/default-deny", "CiliumNetworkPolicy/poc/echo",
			"CiliumNetworkPolicy/poc/whoami", "ServiceAccount/kube-system/vault-token-reviewer",
			"ClusterRoleBinding//vault-token-reviewer-auth-delegator", "Secret/kube-system/vault-token-reviewer-token",
			"HelmChart/kube-system/external-secrets", "ClusterSecretStore//vault", "ExternalSecret/poc/overseerr-vault",
			"HelmChart/kube-system/vpa", "VerticalPodAutoscaler/poc/overseerr", "HelmChart/kube-system/traefik-poc",
			"TLSStore/traefik/default", "ConfigMap/kube-system/coredns-custom", "IngressRoute/poc/whoami",
			"Deployment/poc/whoami", "Deployment/poc/echo", "StatefulSet/poc/overseerr", "Namespace//poc",
		},
		// Cilium's HelmChart is the cluster stage's (K3s auto-deploy on the
		// first server, internal/k3sconfig): Terraform must not apply it too.
		wantNot: []string{"HelmChartConfig", "PersistentVolume", "Server", "AuthorizationPolicy", "HelmChart/kube-system/cilium"},
		check: func(t *testing.T, ctx context.Context, objs []object) {
			checkEchoOnlyFromWhoami(t, objs, "cilium", "poc")
			checkTokenReviewerSecretFilled(t, ctx)
			tls := find(objs, "TLSStore/traefik/default")
			if got := nested(tls.obj, "spec", "defaultCertificate", "secretName"); got != "wildcard-tls" {
				t.Errorf("default TLSStore serves %v, want the Secret wildcard-tls", got)
			}
		},
	},
	{
		name: "one-server-longhorn-linkerd-bundled-injector",
		vars: map[string]any{
			"control_plane_topology": "1-server-2-agents",
			"nodes": []map[string]string{
				{"name": "hestia", "address": "192.168.1.5", "arch": "amd64", "role": "server"},
				{"name": "heracles", "address": "192.168.1.6", "arch": "arm64", "role": "agent"},
				{"name": "nyx", "address": "192.168.1.7", "arch": "arm64", "role": "agent"},
			},
			"storage_backend": "longhorn",
			"service_mesh":    "linkerd",
			"ingress_mode":    "bundled-traefik",
			"k3s_disable":     []string{},
			"vault_method":    "agent-injector",
			"vpa_update_mode": "Auto",
		},
		want: []string{
			"HelmChart/kube-system/longhorn", "HelmChart/kube-system/linkerd-crds", "HelmChart/kube-system/linkerd-control-plane",
			"Job/linkerd/linkerd-identity-bootstrap", "HelmChart/kube-system/vault-agent-injector",
			"HelmChartConfig/kube-system/traefik", "TLSStore/kube-system/default", "Server/poc/echo",
			"MeshTLSAuthentication/poc/echo-clients", "AuthorizationPolicy/poc/echo-clients", "Server/poc/whoami",
			"NetworkAuthentication/poc/whoami-ingress",
		},
		wantNot: []string{"ExternalSecret", "ClusterSecretStore", "CiliumNetworkPolicy", "PeerAuthentication"},
		check: func(t *testing.T, ctx context.Context, objs []object) {
			checkEchoOnlyFromWhoami(t, objs, "linkerd", "poc")
			checkLinkerdObjects(t, objs)
			// K3s's packaged Traefik (traefik-crd) owns the Gateway API CRDs here.
			if v := nested(find(objs, "HelmChart/kube-system/linkerd-crds").values(t), "installGatewayAPI"); v != false {
				t.Errorf("bundled-traefik: linkerd-crds installGatewayAPI = %v, want false (K3s's traefik-crd release owns the Gateway API CRDs)", v)
			}
			sts := find(objs, "StatefulSet/poc/overseerr")
			ann, _ := nestedMap(sts.obj, "spec", "template", "metadata", "annotations")
			if ann["vault.hashicorp.com/role"] != "poc-overseerr" || ann["vault.hashicorp.com/auth-path"] != "auth/kubernetes-k3s" {
				t.Errorf("overseerr lacks the agent-injector annotations: %v", ann)
			}
			vpa := find(objs, "HelmChart/kube-system/vpa").values(t)
			if nested(vpa, "updater", "enabled") != true || nested(vpa, "admissionController", "enabled") != true || nested(vpa, "admissionController", "generateCertificate") != true {
				t.Errorf("vpa_update_mode Auto must install the updater and the admission controller with a generated certificate: %v", vpa)
			}
		},
	},
	{
		name: "gluster-hostpath-istio-external-direct",
		vars: map[string]any{
			"storage_backend": "glusterfs-hostpath",
			"service_mesh":    "istio-ambient",
			"ingress_mode":    "external-direct",
			"vpa_update_mode": "Recreate",
			"poc_namespace":   "poc-istio",
		},
		want: []string{
			"HelmChart/kube-system/istio-base", "HelmChart/kube-system/istiod", "HelmChart/kube-system/istio-cni",
			"HelmChart/kube-system/ztunnel", "PeerAuthentication/poc-istio/default", "AuthorizationPolicy/poc-istio/allow-nothing",
			"AuthorizationPolicy/poc-istio/echo", "PeerAuthentication/poc-istio/whoami-ingress",
			"PersistentVolume//glusterfs-overseerr-config", "PersistentVolumeClaim/poc-istio/overseerr-config",
		},
		wantNot: []string{"IngressRoute", "TLSStore", "HelmChartConfig", "CiliumNetworkPolicy"},
		check: func(t *testing.T, ctx context.Context, objs []object) {
			checkEchoOnlyFromWhoami(t, objs, "istio-ambient", "poc-istio")
			svc, err := world.Client.CoreV1().Services("poc-istio").Get(ctx, "whoami", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if svc.Spec.Type != "NodePort" || svc.Spec.Ports[0].NodePort != 32011 {
				t.Errorf("external-direct: whoami Service is %s with nodePort %d, want NodePort 32011", svc.Spec.Type, svc.Spec.Ports[0].NodePort)
			}
			pv := find(objs, "PersistentVolume//glusterfs-overseerr-config")
			if got := nested(pv.obj, "spec", "hostPath", "path"); got != "/storage/v/glusterfs_overseerr_config" {
				t.Errorf("the GlusterFS PV points at %v", got)
			}
			checkDatabaseNotOnNetworkStorage(t, objs, "poc-istio")
		},
	},
	{
		name: "gluster-nfs-cilium-pool-injector",
		vars: map[string]any{
			"storage_backend":  "glusterfs-nfs",
			"nfs_server":       "192.168.1.5",
			"cilium_ipam_mode": "cluster-pool",
			"vault_method":     "agent-injector",
			"vpa_update_mode":  "Initial",
			"poc_services":     []string{"whoami", "overseerr"},
		},
		want: []string{
			"HelmChart/kube-system/nfs-subdir-external-provisioner", "PersistentVolumeClaim/poc/overseerr-config",
			"HelmChart/kube-system/vault-agent-injector", "CiliumNetworkPolicy/poc/overseerr",
		},
		wantNot: []string{"ExternalSecret", "PersistentVolume", "HelmChart/kube-system/cilium"},
		check: func(t *testing.T, ctx context.Context, objs []object) {
			for _, o := range objs {
				if strings.Contains(o.key, "/echo") {
					t.Errorf("echo is not in poc_services but %s was applied", o.key)
				}
			}
			// cluster-pool IPAM is in the cluster stage's Cilium HelmChart
			// (internal/k3sconfig TestCiliumHelmChart), not applied here.
			checkDatabaseNotOnNetworkStorage(t, objs, "poc")
		},
	},
	{
		name: "no-mesh-some-stages",
		vars: map[string]any{
			"service_mesh":    "none",
			"enabled_stages":  []string{"vpa", "services"},
			"vpa_update_mode": "Initial",
			"poc_services":    []string{"whoami", "echo"},
		},
		// The .consul forwarding comes with whichever stage is applied, not
		// with the ingress stage (issue 10, item 7).
		want:    []string{"HelmChart/kube-system/vpa", "VerticalPodAutoscaler/poc/whoami", "Deployment/poc/echo", "Service/poc/whoami", "ConfigMap/kube-system/coredns-custom"},
		wantNot: []string{"CiliumNetworkPolicy", "IngressRoute", "ExternalSecret", "ClusterSecretStore", "TLSStore", "ConfigMap/poc", "ServiceAccount/kube-system"},
		check: func(t *testing.T, ctx context.Context, objs []object) {
			vpa := find(objs, "VerticalPodAutoscaler/poc/whoami")
			if got := nested(vpa.obj, "spec", "updatePolicy", "updateMode"); got != "Initial" {
				t.Errorf("whoami VPA updateMode = %v, want Initial", got)
			}
		},
	},
}

// TestApplyCombos applies each combination to the test world, checks every
// object was accepted and reads back, plans again for no changes, destroys
// and checks nothing of the PoC is left. Objects that only a controller
// would act on (HelmCharts, whose charts K3s's Helm controller installs)
// are checked as the manifests the API server accepted.
func TestApplyCombos(t *testing.T) {
	if world == nil {
		t.Fatal("no test world (TestMain)")
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(world.RESTConfig)))
	for _, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			dir := copyConfig(t)
			vars := map[string]any{"kubeconfig_path": world.Kubeconfig}
			for k, v := range c.vars {
				vars[k] = v
			}
			b, _ := json.MarshalIndent(vars, "", "  ")
			if err := os.WriteFile(filepath.Join(dir, "combo.tfvars.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			varArgs := []string{"-var-file=terraform.tfvars.example", "-var-file=combo.tfvars.json"}
			tf := newTofu(t, dir)
			tf.must(t, ctx, "init", "-input=false", "-no-color")

			destroyed := false
			t.Cleanup(func() {
				if !destroyed { // leave the shared world clean for the next combo
					_, _, _ = tf.run(context.Background(), append([]string{"destroy", "-auto-approve", "-no-color"}, varArgs...)...)
				}
			})
			start := time.Now()
			tf.must(t, ctx, append([]string{"apply", "-auto-approve", "-no-color"}, varArgs...)...)
			t.Logf("apply: %s", time.Since(start).Round(time.Second))

			objs := stateObjects(t, ctx, tf)
			if len(objs) == 0 {
				t.Fatal("the apply created no kubectl_manifest")
			}
			mapper.Reset()
			for _, o := range objs {
				if _, err := getObject(ctx, mapper, o); err != nil {
					t.Errorf("%s: applied but not readable from the API server: %v", o.key, err)
				}
			}
			checkWanted(t, objs, c.want, c.wantNot)
			checkCommon(t, objs)
			if c.check != nil {
				c.check(t, ctx, objs)
			}

			start = time.Now()
			code, out, err := tf.run(ctx, append([]string{"plan", "-detailed-exitcode", "-no-color"}, varArgs...)...)
			t.Logf("plan: %s", time.Since(start).Round(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if code != 0 {
				t.Errorf("second plan after apply is not empty (exit %d, want 0):\n%s", code, tail(out, 6000))
			}

			start = time.Now()
			tf.must(t, ctx, append([]string{"destroy", "-auto-approve", "-no-color"}, varArgs...)...)
			t.Logf("destroy: %s", time.Since(start).Round(time.Second))
			destroyed = true
			mapper.Reset()
			// Objects with finalizers (a PV's pv-protection) go a moment after
			// the delete returns; give the controllers a bounded while.
			for _, o := range objs {
				var last error
				err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
					_, last = getObject(ctx, mapper, o)
					return apierrors.IsNotFound(last) || meta.IsNoMatchError(last), nil
				})
				if err != nil {
					t.Errorf("%s still there after destroy (last read: %v)", o.key, last)
				}
			}
			nss, err := world.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=migrate-tui-poc"})
			if err != nil {
				t.Fatal(err)
			}
			for _, ns := range nss.Items {
				t.Errorf("namespace %s (%s) left after destroy", ns.Name, ns.Status.Phase)
			}
		})
	}
}

// object is one kubectl_manifest from the state.
type object struct {
	key        string // Kind/namespace/name
	apiVersion string
	yaml       string
	obj        map[string]any
}

func (o object) values(t *testing.T) map[string]any {
	t.Helper()
	s, _ := nested(o.obj, "spec", "valuesContent").(string)
	var v map[string]any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: valuesContent is not YAML: %v", o.key, err)
	}
	return v
}

func stateObjects(t *testing.T, ctx context.Context, tf *tofu) []object {
	t.Helper()
	out := tf.must(t, ctx, "show", "-json", "-no-color")
	var st tfjson.State
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("tofu show -json: %v", err)
	}
	var objs []object
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			if r.Type != "kubectl_manifest" {
				continue
			}
			body, _ := r.AttributeValues["yaml_body"].(string)
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(body), &obj); err != nil {
				t.Fatalf("%s: yaml_body: %v", r.Address, err)
			}
			u := unstructured.Unstructured{Object: obj}
			objs = append(objs, object{
				key:        fmt.Sprintf("%s/%s/%s", u.GetKind(), u.GetNamespace(), u.GetName()),
				apiVersion: u.GetAPIVersion(),
				yaml:       body,
				obj:        obj,
			})
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	if st.Values != nil {
		walk(st.Values.RootModule)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
	return objs
}

func getObject(ctx context.Context, mapper meta.RESTMapper, o object) (*unstructured.Unstructured, error) {
	gv, err := schema.ParseGroupVersion(o.apiVersion)
	if err != nil {
		return nil, err
	}
	parts := strings.SplitN(o.key, "/", 3)
	m, err := mapper.RESTMapping(gv.WithKind(parts[0]).GroupKind(), gv.Version)
	if err != nil {
		return nil, err
	}
	r := world.Dynamic.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return r.Namespace(parts[1]).Get(ctx, parts[2], metav1.GetOptions{})
	}
	return r.Get(ctx, parts[2], metav1.GetOptions{})
}

func find(objs []object, key string) object {
	for _, o := range objs {
		if o.key == key {
			return o
		}
	}
	return object{key: key, obj: map[string]any{}}
}

func nested(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func nestedMap(obj map[string]any, path ...string) (map[string]any, bool) {
	m, ok := nested(obj, path...).(map[string]any)
	return m, ok
}

func checkWanted(t *testing.T, objs []object, want, wantNot []string) {
	t.Helper()
	keys := map[string]bool{}
	for _, o := range objs {
		keys[o.key] = true
	}
	for _, w := range want {
		if !keys[w] {
			t.Errorf("%s was not applied", w)
		}
	}
	for _, o := range objs {
		for _, n := range wantNot {
			if o.key == n || strings.HasPrefix(o.key, n+"/") {
				t.Errorf("%s was applied; this combination must not have %s", o.key, n)
			}
		}
	}
}

var pinnedVersion = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+$`)

// checkCommon holds what every combination must satisfy.
func checkCommon(t *testing.T, objs []object) {
	t.Helper()
	for _, o := range objs {
		kind := strings.SplitN(o.key, "/", 2)[0]
		labels, _ := nestedMap(o.obj, "metadata", "labels")
		if labels["app.kubernetes.io/part-of"] != "migrate-tui-poc" && kind != "Secret" && kind != "Namespace" {
			t.Errorf("%s lacks app.kubernetes.io/part-of=migrate-tui-poc", o.key)
		}
		switch kind {
		case "HelmChart":
			repo, _ := nested(o.obj, "spec", "repo").(string)
			version, _ := nested(o.obj, "spec", "version").(string)
			if !strings.HasPrefix(repo, "https://") || nested(o.obj, "spec", "chart") == nil || !pinnedVersion.MatchString(version) {
				t.Errorf("%s: want an https repo, a chart and a pinned version; got repo=%q version=%q", o.key, repo, version)
			}
			if _, ok := nested(o.obj, "spec", "valuesContent").(string); ok {
				o.values(t)
			}
		case "Deployment", "StatefulSet":
			checkWorkload(t, o)
		}
	}
}

// checkWorkload: multi-arch images pinned by tag, probes, requests and
// limits, the recommended labels.
func checkWorkload(t *testing.T, o object) {
	t.Helper()
	labels, _ := nestedMap(o.obj, "spec", "template", "metadata", "labels")
	for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/component", "app.kubernetes.io/managed-by"} {
		if labels[l] == nil {
			t.Errorf("%s: pod template lacks label %s", o.key, l)
		}
	}
	containers, _ := nested(o.obj, "spec", "template", "spec", "containers").([]any)
	inits, _ := nested(o.obj, "spec", "template", "spec", "initContainers").([]any)
	for i, c := range append(containers, inits...) {
		cm, _ := c.(map[string]any)
		image, _ := cm["image"].(string)
		if !multiArchImages[image] {
			t.Errorf("%s: image %q is not in the list of images known to ship amd64 and arm64", o.key, image)
		}
		if nested(cm, "resources", "requests", "cpu") == nil || nested(cm, "resources", "requests", "memory") == nil || nested(cm, "resources", "limits", "memory") == nil {
			t.Errorf("%s: container %v lacks cpu/memory requests or a memory limit", o.key, cm["name"])
		}
		if i < len(containers) && cm["readinessProbe"] == nil && cm["name"] != "litestream" {
			t.Errorf("%s: container %v has no readiness probe", o.key, cm["name"])
		}
	}
}

// multiArchImages are the images the PoC uses, each published for amd64 and
// arm64 (checked by hand against the registries when pinned).
var multiArchImages = map[string]bool{
	"traefik/whoami:v1.11.0":    true,
	"ealen/echo-server:0.9.2":   true,
	"sctx/overseerr:1.34.0":     true,
	"litestream/litestream:0.5": true,
}

// checkEchoOnlyFromWhoami: the replacement of the Consul intention.
func checkEchoOnlyFromWhoami(t reporter, objs []object, mesh, ns string) {
	t.Helper()
	var clients []string
	switch mesh {
	case "cilium":
		if find(objs, "CiliumNetworkPolicy/"+ns+"/default-deny").yaml == "" {
			t.Errorf("no default-deny CiliumNetworkPolicy in %s", ns)
		}
		rules, _ := nested(find(objs, "CiliumNetworkPolicy/"+ns+"/echo").obj, "spec", "ingress").([]any)
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			if rm["fromEntities"] != nil || rm["fromCIDR"] != nil {
				t.Errorf("echo's CiliumNetworkPolicy admits more than PoC endpoints: %v", rm)
			}
			eps, _ := rm["fromEndpoints"].([]any)
			for _, e := range eps {
				clients = append(clients, fmt.Sprint(nested(e.(map[string]any), "matchLabels", "app.kubernetes.io/name")))
			}
		}
	case "linkerd":
		nsObj := find(objs, "Namespace//"+ns)
		if nested(nsObj.obj, "metadata", "annotations", "config.linkerd.io/default-inbound-policy") != "deny" {
			t.Errorf("namespace %s is not default-deny for Linkerd", ns)
		}
		refs, _ := nested(find(objs, "MeshTLSAuthentication/"+ns+"/echo-clients").obj, "spec", "identityRefs").([]any)
		for _, r := range refs {
			clients = append(clients, fmt.Sprint(r.(map[string]any)["name"]))
		}
		for _, o := range objs {
			if strings.HasPrefix(o.key, "AuthorizationPolicy/"+ns+"/echo") && nested(o.obj, "spec", "targetRef", "name") == "echo" {
				refs, _ := nested(o.obj, "spec", "requiredAuthenticationRefs").([]any)
				for _, r := range refs {
					if r.(map[string]any)["name"] != "echo-clients" {
						t.Errorf("%s authorises %v besides echo-clients", o.key, r)
					}
				}
			}
		}
	case "istio-ambient":
		if nested(find(objs, "PeerAuthentication/"+ns+"/default").obj, "spec", "mtls", "mode") != "STRICT" {
			t.Errorf("namespace %s lacks STRICT PeerAuthentication", ns)
		}
		if find(objs, "AuthorizationPolicy/"+ns+"/allow-nothing").yaml == "" {
			t.Errorf("namespace %s lacks the allow-nothing AuthorizationPolicy", ns)
		}
		rules, _ := nested(find(objs, "AuthorizationPolicy/"+ns+"/echo").obj, "spec", "rules").([]any)
		for _, r := range rules {
			from, _ := r.(map[string]any)["from"].([]any)
			for _, f := range from {
				src, _ := f.(map[string]any)["source"].(map[string]any)
				if len(src) != 1 || src["principals"] == nil {
					t.Errorf("echo's AuthorizationPolicy admits a source other than principals: %v", src)
				}
				for _, p := range src["principals"].([]any) {
					clients = append(clients, strings.TrimPrefix(fmt.Sprint(p), "cluster.local/ns/"+ns+"/sa/"))
				}
			}
		}
	}
	if !slices.Equal(clients, []string{"whoami"}) {
		t.Errorf("%s: echo admits %v, want exactly [whoami]", mesh, clients)
	}
}

// checkDatabaseNotOnNetworkStorage: Overseerr's SQLite volume is local.
func checkDatabaseNotOnNetworkStorage(t *testing.T, objs []object, ns string) {
	t.Helper()
	sts := find(objs, "StatefulSet/"+ns+"/overseerr")
	tmpls, _ := nested(sts.obj, "spec", "volumeClaimTemplates").([]any)
	found := false
	for _, v := range tmpls {
		vm := v.(map[string]any)
		if nested(vm, "metadata", "name") == "db" {
			found = true
			if c := nested(vm, "spec", "storageClassName"); c != "local-path" && c != "longhorn" {
				t.Errorf("overseerr's database is on storage class %v, want local-path or longhorn", c)
			}
		}
	}
	if !found {
		t.Errorf("overseerr has no db volume claim template")
	}
}

func checkTokenReviewerSecretFilled(t *testing.T, ctx context.Context) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		s, err := world.Client.CoreV1().Secrets("kube-system").Get(ctx, "vault-token-reviewer-token", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return len(s.Data["token"]) > 0, nil
	})
	if err != nil {
		t.Errorf("the API server never wrote a token into kube-system/vault-token-reviewer-token: %v", err)
	}
}
