package k3sconfig

import (
	"fmt"
)

// ciliumView is what cilium-helmchart.yaml.tmpl sees.
type ciliumView struct {
	Version, IPAMMode, PoolCIDR, NativeRoutingCIDR string
	ManifestPath                                   string
}

// CiliumHelmChart renders the HelmChart (helm.cattle.io/v1, bootstrap) that
// installs Cilium with the cluster when service_mesh is cilium. Render puts
// it among the first server's Manifests; the mesh stage does not apply it.
// It refuses decisions Render would refuse, and a mesh other than cilium.
func CiliumHelmChart(d Decisions) ([]byte, error) {
	if d.ServiceMesh != meshCilium {
		return nil, fmt.Errorf("the Cilium HelmChart is rendered only for service_mesh = cilium, not %q", d.ServiceMesh)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("cilium HelmChart not rendered: %w", err)
	}
	v := ciliumView{Version: CiliumChartVersion, IPAMMode: d.CiliumIPAMMode, PoolCIDR: d.CiliumPoolCIDR,
		NativeRoutingCIDR: d.ClusterCIDR, ManifestPath: CiliumManifestPath}
	if d.CiliumIPAMMode == "cluster-pool" {
		v.NativeRoutingCIDR = d.CiliumPoolCIDR
	}
	return execute("cilium-helmchart.yaml.tmpl", "cilium", v)
}
