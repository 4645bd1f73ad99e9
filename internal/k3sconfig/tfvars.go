package k3sconfig

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// FromTFVars reads the cluster decisions from a terraform.tfvars file (the
// one the wizard writes); keys it does not set keep variables.tf's defaults.
// installerURL is passed through (empty: K3s's own installer).
func FromTFVars(src []byte, filename, installerURL string) (Decisions, error) {
	d := Defaults()
	d.InstallerURL = installerURL
	f, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return d, fmt.Errorf("read %s: %s", filename, diags.Error())
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return d, fmt.Errorf("read %s: %s", filename, diags.Error())
	}
	targets := map[string]any{
		"control_plane_topology": &d.Topology,
		"k3s_version":            &d.K3sVersion,
		"cluster_cidr":           &d.ClusterCIDR,
		"service_cidr":           &d.ServiceCIDR,
		"node_port_range":        &d.NodePortRange,
		"k3s_disable":            &d.Disable,
		"system_reserved":        &d.SystemReserved,
		"kube_reserved":          &d.KubeReserved,
		"service_mesh":           &d.ServiceMesh,
		"cilium_ipam_mode":       &d.CiliumIPAMMode,
		"cilium_pool_cidr":       &d.CiliumPoolCIDR,
	}
	for name, target := range targets {
		if err := decode(attrs, name, target); err != nil {
			return d, fmt.Errorf("read %s: %w", filename, err)
		}
	}
	if a, ok := attrs["nodes"]; ok {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return d, fmt.Errorf("read %s: nodes: %s", filename, diags.Error())
		}
		d.Nodes = nil
		if !v.CanIterateElements() {
			return d, fmt.Errorf("read %s: nodes must be a list of objects", filename)
		}
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			if !el.Type().IsObjectType() {
				return d, fmt.Errorf("read %s: nodes must be a list of objects", filename)
			}
			var n Node
			for key, dst := range map[string]*string{"name": &n.Name, "address": &n.Address, "arch": &n.Arch, "role": &n.Role} {
				if !el.Type().HasAttribute(key) {
					return d, fmt.Errorf("read %s: a node has no %s", filename, key)
				}
				if err := gocty.FromCtyValue(el.GetAttr(key), dst); err != nil {
					return d, fmt.Errorf("read %s: node %s: %w", filename, key, err)
				}
			}
			d.Nodes = append(d.Nodes, n)
		}
	}
	return d, nil
}

func decode(attrs hcl.Attributes, name string, target any) error {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return fmt.Errorf("%s: %s", name, diags.Error())
	}
	if v.IsNull() {
		return nil
	}
	if l, ok := target.(*[]string); ok && (v.Type().IsTupleType() || v.Type().IsListType()) {
		*l = []string{}
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			if el.Type() != cty.String {
				return fmt.Errorf("%s: every element must be a string", name)
			}
			*l = append(*l, el.AsString())
		}
		return nil
	}
	if err := gocty.FromCtyValue(v, target); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
