package k3sconfig

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"migrate-tui/internal/testtools"
)

func renderCilium(t *testing.T, d Decisions) (chart map[string]any, values map[string]any) {
	t.Helper()
	body, err := CiliumHelmChart(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(body, &chart); err != nil {
		t.Fatalf("the HelmChart is not YAML: %v\n%s", err, body)
	}
	spec, _ := chart["spec"].(map[string]any)
	vc, _ := spec["valuesContent"].(string)
	if err := yaml.Unmarshal([]byte(vc), &values); err != nil {
		t.Fatalf("valuesContent is not YAML: %v\n%s", err, vc)
	}
	return chart, values
}

func TestCiliumHelmChart(t *testing.T) {
	chart, values := renderCilium(t, Defaults())
	spec := chart["spec"].(map[string]any)
	meta := chart["metadata"].(map[string]any)
	if chart["apiVersion"] != "helm.cattle.io/v1" || chart["kind"] != "HelmChart" || meta["namespace"] != "kube-system" || meta["name"] != "cilium" {
		t.Fatalf("want helm.cattle.io/v1 HelmChart kube-system/cilium, got %v %v %v", chart["apiVersion"], chart["kind"], meta)
	}
	// bootstrap: the install Job runs on the host network of a control-plane
	// node and tolerates the not-ready taints, so it runs before any CNI.
	if spec["bootstrap"] != true || spec["version"] != CiliumChartVersion || spec["chart"] != "cilium" {
		t.Errorf("spec = %v, want bootstrap true, chart cilium %s", spec, CiliumChartVersion)
	}
	// The node-local API endpoint: the server's own apiserver (K3s binds it
	// to 6443+1) or the agent's client load balancer (lb-server-port 6444).
	if values["k8sServiceHost"] != "127.0.0.1" || values["k8sServicePort"] != float64(6444) || values["kubeProxyReplacement"] != true {
		t.Errorf("k8sServiceHost/Port/kubeProxyReplacement = %v %v %v, want 127.0.0.1 6444 true", values["k8sServiceHost"], values["k8sServicePort"], values["kubeProxyReplacement"])
	}
	for _, n := range Defaults().Nodes {
		if strings.Contains(values["k8sServiceHost"].(string), n.Address) {
			t.Errorf("k8sServiceHost names node %s: one server down would cut the others off", n.Name)
		}
	}
	if cni, _ := values["cni"].(map[string]any); cni["exclusive"] != false {
		t.Errorf("cni.exclusive = %v, want false: Cilium must not rename Nomad's CNI configurations", cni["exclusive"])
	}
	if values["ipv4NativeRoutingCIDR"] != Defaults().ClusterCIDR {
		t.Errorf("ipv4NativeRoutingCIDR = %v, want cluster_cidr", values["ipv4NativeRoutingCIDR"])
	}

	pool := Defaults()
	pool.CiliumIPAMMode = "cluster-pool"
	_, values = renderCilium(t, pool)
	ipam := values["ipam"].(map[string]any)
	op, _ := ipam["operator"].(map[string]any)
	if ipam["mode"] != "cluster-pool" || op == nil || values["ipv4NativeRoutingCIDR"] != pool.CiliumPoolCIDR {
		t.Errorf("cluster-pool values = %v", values)
	}

	bad := Defaults()
	bad.CiliumIPAMMode = "cluster-pool"
	bad.CiliumPoolCIDR = "10.42.0.0/17"
	if _, err := CiliumHelmChart(bad); err == nil || !strings.Contains(err.Error(), "cilium_pool_cidr") {
		t.Errorf("a pool inside cluster_cidr: %v, want a refusal naming cilium_pool_cidr", err)
	}
	other := Defaults()
	other.ServiceMesh = "linkerd"
	if _, err := CiliumHelmChart(other); err == nil {
		t.Error("rendered a Cilium HelmChart for linkerd")
	}
}

// TestCiliumChartVersionPinned keeps the chart the cluster installs in step
// with the Cilium sources hack/versions.env pins (CRDs in the test world).
func TestCiliumChartVersionPinned(t *testing.T) {
	v, err := testtools.Version("CILIUM_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if "v"+CiliumChartVersion != v {
		t.Fatalf("CiliumChartVersion %s, hack/versions.env CILIUM_VERSION %s", CiliumChartVersion, v)
	}
}

// TestCiliumHelmChartAgainstUpstream checks the rendered object against the
// pinned upstream sources in the module cache: every spec field against the
// HelmChart CRD of K3S_HELM_CONTROLLER_VERSION (bootstrap is a boolean
// there), every value key against the Cilium chart's values.yaml at
// CILIUM_VERSION.
func TestCiliumHelmChartAgainstUpstream(t *testing.T) {
	chart, values := renderCilium(t, Defaults())
	pool := Defaults()
	pool.CiliumIPAMMode = "cluster-pool"
	_, poolValues := renderCilium(t, pool)

	// The same CRD file the test world installs (testworld.CRDSources).
	hcVersion, err := testtools.Version("K3S_HELM_CONTROLLER_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	hcDir, err := testtools.ModuleDir("github.com/k3s-io/helm-controller", hcVersion)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(hcDir, "pkg", "crds", "yaml", "generated", "*.yaml"))
	var props map[string]any
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if yaml.Unmarshal(raw, &c) != nil || c["metadata"] == nil || c["metadata"].(map[string]any)["name"] != "helmcharts.helm.cattle.io" {
			continue
		}
		versions, _ := c["spec"].(map[string]any)["versions"].([]any)
		for _, v := range versions {
			vm := v.(map[string]any)
			if vm["name"] != "v1" {
				continue
			}
			s := vm["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)
			props = s["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)
		}
	}
	if props == nil {
		t.Fatal("no helmcharts.helm.cattle.io v1 schema in the helm-controller sources")
	}
	for k := range chart["spec"].(map[string]any) {
		if props[k] == nil {
			t.Errorf("spec.%s is not a field of helm.cattle.io/v1 HelmChart at the pinned helm-controller", k)
		}
	}
	if b, _ := props["bootstrap"].(map[string]any); b == nil || b["type"] != "boolean" {
		t.Errorf("helm-controller's spec.bootstrap = %v, want a boolean", props["bootstrap"])
	}

	version, err := testtools.Version("CILIUM_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := testtools.ModuleDir("github.com/cilium/cilium", version)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "install", "kubernetes", "cilium", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var upstream map[string]any
	if err := yaml.Unmarshal(raw, &upstream); err != nil {
		t.Fatal(err)
	}
	// A value commented out in values.yaml (kubeProxyReplacement) is still
	// one the chart reads when its templates say .Values.<path>.
	var templates strings.Builder
	tpls, _ := filepath.Glob(filepath.Join(dir, "install", "kubernetes", "cilium", "templates", "*"))
	for _, f := range tpls {
		if b, err := os.ReadFile(f); err == nil {
			templates.Write(b)
		}
	}
	seen := map[string]bool{}
	var missing []string
	for _, v := range []map[string]any{values, poolValues} {
		for _, k := range missingKeys("", v, upstream) {
			if !seen[k] && !strings.Contains(templates.String(), ".Values."+k) {
				missing = append(missing, k)
			}
			seen[k] = true
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("values the Cilium %s chart does not have: %s", version, strings.Join(missing, ", "))
	}
}

// missingKeys lists the key paths of ours that upstream does not have (a
// null or scalar upstream value takes anything below it).
func missingKeys(prefix string, ours, upstream map[string]any) []string {
	var out []string
	for k, v := range ours {
		u, ok := upstream[k]
		if !ok {
			out = append(out, prefix+k)
			continue
		}
		om, oIsMap := v.(map[string]any)
		um, uIsMap := u.(map[string]any)
		if oIsMap && uIsMap {
			out = append(out, missingKeys(prefix+k+".", om, um)...)
		}
	}
	return out
}
