package helmrender

import (
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

// TestLinkerdLeavesK3sGatewayAPICRDs: where K3s's packaged Traefik runs, its
// traefik-crd release owns the Gateway API CRDs and Helm would refuse
// linkerd-crds' copies (invalid ownership metadata), so the chart must not
// install them; elsewhere it is their only source and must.
func TestLinkerdLeavesK3sGatewayAPICRDs(t *testing.T) {
	for _, tc := range []struct {
		fromK3s string
		want    bool
	}{{"false", true}, {"true", false}} {
		var found bool
		for _, s := range stageStreams(t, "k8s/core/service-mesh", map[string]string{"service_mesh": "linkerd", "gateway_api_crds_from_k3s": tc.fromK3s}) {
			hcs, err := ParseHelmCharts([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			for _, hc := range hcs {
				if hc.Name != "linkerd-crds" {
					continue
				}
				found = true
				vals, err := chartutil.ReadValues([]byte(hc.ValuesContent))
				if err != nil {
					t.Fatal(err)
				}
				if got, err := vals.PathValue("installGatewayAPI"); err != nil || got != tc.want {
					t.Errorf("gateway_api_crds_from_k3s=%s: linkerd-crds installGatewayAPI = %v (%v), want %v", tc.fromK3s, got, err, tc.want)
				}
			}
		}
		if !found {
			t.Fatalf("gateway_api_crds_from_k3s=%s: the mesh stage rendered no linkerd-crds HelmChart", tc.fromK3s)
		}
	}
}
