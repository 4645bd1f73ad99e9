package checks

import (
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/zclconf/go-cty/cty"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/tfanswers"
)

// Decisions are the few terraform.tfvars keys the checks read (names as in
// variables.tf). Zero values fall back to variables.tf's defaults.
type Decisions struct {
	PoCServices []string
	// Scaffolded are the services switched on in terraform.tfvars'
	// services map (migrate-tui scaffold's modules), sorted.
	Scaffolded       []string
	PoCNamespace     string
	ServiceMesh      string
	VaultMethod      string
	Domain           string
	PoCHostPattern   string // poc_host_pattern: {service} and {domain} filled in per service
	LitestreamBucket string
	TraefikHTTPSPort int
	VPAUpdateMode    string
	NodeArchs        []string // the arch of every entry in nodes
	NodeNames        []string
	NodeRoles        []string // server or agent, of every entry in nodes
	Topology         string   // control_plane_topology
	IngressMode      string
	TLSSecretName    string
	EnabledStages    []string
	NodeAddrs        []string // the address of every entry in nodes
	// The external Traefik's file-provider route (cutover's traffic
	// switch): its watched directory ("" prints the route instead), its
	// node ("" is this machine) and its websecure host:port.
	TraefikRouteDir, TraefikRouteNode, TraefikWebsecure string
}

// DefaultDecisions are the catalogue's defaults (internal/decisions, kept
// equal to variables.tf by its tests).
func DefaultDecisions() Decisions {
	return fromAnswers(decisions.Defaults())
}

func fromAnswers(a decisions.Answers) Decisions {
	d := Decisions{
		PoCServices:      a.List("poc_services"),
		PoCNamespace:     a.Str("poc_namespace"),
		ServiceMesh:      a.Str("service_mesh"),
		VaultMethod:      a.Str("vault_method"),
		Domain:           a.Str("domain"),
		PoCHostPattern:   a.Str("poc_host_pattern"),
		LitestreamBucket: a.Str("overseerr_litestream_bucket"),
		TraefikHTTPSPort: int(a.Int("traefik_https_node_port")),
		VPAUpdateMode:    a.Str("vpa_update_mode"),
		IngressMode:      a.Str("ingress_mode"),
		TLSSecretName:    a.Str("tls_secret_name"),
		Topology:         a.Str("control_plane_topology"),
		TraefikRouteDir:  a.Str("traefik_route_dir"),
		TraefikRouteNode: a.Str("traefik_route_node"),
		TraefikWebsecure: a.Str("traefik_websecure_addr"),
	}
	for _, n := range a.Nodes() {
		d.NodeNames = append(d.NodeNames, n.Name)
		d.NodeArchs = append(d.NodeArchs, n.Arch)
		d.NodeRoles = append(d.NodeRoles, n.Role)
		d.NodeAddrs = append(d.NodeAddrs, n.Address)
	}
	return d
}

// Namespace is the PoC namespace.
func (d Decisions) Namespace() string {
	if d.PoCNamespace == "" {
		return "poc"
	}
	return d.PoCNamespace
}

// Services are the services the checks cover: the PoC services, then the
// scaffolded ones enabled in the services map.
func (d Decisions) Services() []string {
	out := append([]string{}, d.PoCServices...)
	for _, s := range d.Scaffolded {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Has reports whether service is among the PoC services.
func (d Decisions) Has(service string) bool {
	for _, s := range d.PoCServices {
		if s == service {
			return true
		}
	}
	return false
}

// LoadDecisions reads path (terraform.tfvars, through internal/tfvars) over
// the defaults. A missing file yields the defaults and os.ErrNotExist
// wrapped, so a caller may decide whether that is fatal.
func LoadDecisions(path string) (Decisions, error) {
	if _, err := os.Stat(path); err != nil {
		return DefaultDecisions(), fmt.Errorf("reading decisions from %s: %w", path, err)
	}
	ans, vals, err := tfanswers.Read(path)
	if ans == nil {
		return DefaultDecisions(), err
	}
	d := fromAnswers(ans)
	// enabled_stages is written by the stages, not a decision.
	if v, ok := vals["enabled_stages"]; ok && !v.IsNull() && v.CanIterateElements() {
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.Type() == cty.String && e.IsKnown() && !e.IsNull() {
				d.EnabledStages = append(d.EnabledStages, e.AsString())
			}
		}
	}
	d.Scaffolded = enabledServices(vals["services"])
	return d, err
}

// enabledServices reads the services map (service => { enabled = bool },
// what migrate-tui scaffold writes): the names whose enabled is true.
func enabledServices(v cty.Value) []string {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() || !e.IsKnown() || !(e.Type().IsObjectType() || e.Type().IsMapType()) {
			continue
		}
		if e.Type().IsObjectType() && !e.Type().HasAttribute("enabled") {
			continue
		}
		var on cty.Value
		if e.Type().IsObjectType() {
			on = e.GetAttr("enabled")
		} else if h := e.HasIndex(cty.StringVal("enabled")); h.IsKnown() && h.True() {
			on = e.Index(cty.StringVal("enabled"))
		} else {
			continue
		}
		if on.IsKnown() && !on.IsNull() && on.Type() == cty.Bool && on.True() {
			out = append(out, k.AsString())
		}
	}
	sort.Strings(out)
	return out
}

// MemoryEstimate is the decisions' K3s + platform memory estimate
// (internal/decisions, research.md "Memory estimate"), for SC-010 to set
// beside what was measured. Free memory does not matter here.
func (d Decisions) MemoryEstimate() decisions.MemoryReport {
	a := decisions.Answers{"service_mesh": d.ServiceMesh, "ingress_mode": d.IngressMode, "vpa_update_mode": d.VPAUpdateMode,
		"poc_services": d.PoCServices}
	if d.Topology != "" {
		a["control_plane_topology"] = d.Topology
	}
	var nodes []decisions.Node
	for i, n := range d.NodeNames {
		nd := decisions.Node{Name: n, Role: "server"}
		if i < len(d.NodeRoles) && d.NodeRoles[i] != "" {
			nd.Role = d.NodeRoles[i]
		}
		if i < len(d.NodeArchs) {
			nd.Arch = d.NodeArchs[i]
		}
		nodes = append(nodes, nd)
	}
	if len(nodes) > 0 {
		a["nodes"] = nodes
	}
	return decisions.EstimateMemory(a, decisions.DefaultContext())
}
