package checks

import (
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Decisions are the few terraform.tfvars keys the checks read (names as in
// variables.tf). Zero values fall back to variables.tf's defaults.
type Decisions struct {
	PoCServices      []string
	PoCNamespace     string
	ServiceMesh      string
	VaultMethod      string
	Domain           string
	LitestreamBucket string
	TraefikHTTPSPort int
	VPAUpdateMode    string
	NodeArchs        []string // the arch of every entry in nodes
	NodeNames        []string
	IngressMode      string
	TLSSecretName    string
	EnabledStages    []string
}

// DefaultDecisions mirror variables.tf's defaults.
func DefaultDecisions() Decisions {
	return Decisions{
		PoCServices:      []string{"whoami", "echo", "overseerr"},
		PoCNamespace:     "poc",
		ServiceMesh:      "cilium",
		VaultMethod:      "external-secrets",
		Domain:           "brmartin.co.uk",
		LitestreamBucket: "overseerr-k8s-litestream",
		TraefikHTTPSPort: 32443,
		VPAUpdateMode:    "Off",
		NodeArchs:        []string{"amd64", "arm64", "arm64"},
		NodeNames:        []string{"hestia", "heracles", "nyx"},
		IngressMode:      "traefik-behind-external",
		TLSSecretName:    "wildcard-tls",
	}
}

// Namespace is the PoC namespace.
func (d Decisions) Namespace() string {
	if d.PoCNamespace == "" {
		return "poc"
	}
	return d.PoCNamespace
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

// LoadDecisions reads path (terraform.tfvars) over the defaults. A missing
// file yields the defaults and os.ErrNotExist wrapped, so a caller may
// decide whether that is fatal.
// (H4's internal/tfvars is the writer; this reads only the keys checks need.)
func LoadDecisions(path string) (Decisions, error) {
	d := DefaultDecisions()
	src, err := os.ReadFile(path)
	if err != nil {
		return d, fmt.Errorf("reading decisions from %s: %w", path, err)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		return d, fmt.Errorf("parsing %s: %s", path, diags.Error())
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return d, fmt.Errorf("parsing %s: %s", path, diags.Error())
	}
	val := func(name string) (cty.Value, bool, error) {
		a, ok := attrs[name]
		if !ok {
			return cty.NilVal, false, nil
		}
		v, diags := a.Expr.Value(&hcl.EvalContext{})
		if diags.HasErrors() {
			return cty.NilVal, false, fmt.Errorf("%s in %s: %s", name, path, diags.Error())
		}
		return v, true, nil
	}
	strs := map[string]*string{
		"poc_namespace": &d.PoCNamespace, "service_mesh": &d.ServiceMesh,
		"vault_method": &d.VaultMethod, "domain": &d.Domain,
		"overseerr_litestream_bucket": &d.LitestreamBucket, "vpa_update_mode": &d.VPAUpdateMode,
		"ingress_mode": &d.IngressMode, "tls_secret_name": &d.TLSSecretName,
	}
	var errs []error
	for name, dst := range strs {
		v, ok, err := val(name)
		if err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		if err := gocty.FromCtyValue(v, dst); err != nil {
			errs = append(errs, fmt.Errorf("%s in %s: %w", name, path, err))
		}
	}
	lists := map[string]*[]string{"poc_services": &d.PoCServices, "enabled_stages": &d.EnabledStages}
	for name, dst := range lists {
		v, ok, err := val(name)
		if err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.Type() == cty.String && e.IsKnown() && !e.IsNull() {
				out = append(out, e.AsString())
			}
		}
		*dst = out
	}
	if v, ok, err := val("traefik_https_node_port"); err != nil {
		errs = append(errs, err)
	} else if ok {
		if err := gocty.FromCtyValue(v, &d.TraefikHTTPSPort); err != nil {
			errs = append(errs, fmt.Errorf("traefik_https_node_port in %s: %w", path, err))
		}
	}
	if v, ok, err := val("nodes"); err != nil {
		errs = append(errs, err)
	} else if ok && v.CanIterateElements() {
		d.NodeArchs, d.NodeNames = nil, nil
		for it := v.ElementIterator(); it.Next(); {
			_, n := it.Element()
			if !n.Type().IsObjectType() {
				continue
			}
			if n.Type().HasAttribute("arch") && n.GetAttr("arch").Type() == cty.String {
				d.NodeArchs = append(d.NodeArchs, n.GetAttr("arch").AsString())
			}
			if n.Type().HasAttribute("name") && n.GetAttr("name").Type() == cty.String {
				d.NodeNames = append(d.NodeNames, n.GetAttr("name").AsString())
			}
		}
	}
	return d, errors.Join(errs...)
}

// KubeconfigPath reads kubeconfig_path from a tfvars file, falling back to
// variables.tf's default.
func KubeconfigPath(tfvarsPath string) string {
	const def = "~/.kube/k3s-poc.yaml"
	src, err := os.ReadFile(tfvarsPath)
	if err != nil {
		return def
	}
	f, diags := hclparse.NewParser().ParseHCL(src, tfvarsPath)
	if diags.HasErrors() {
		return def
	}
	attrs, _ := f.Body.JustAttributes()
	a, ok := attrs["kubeconfig_path"]
	if !ok {
		return def
	}
	v, diags := a.Expr.Value(&hcl.EvalContext{})
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		return def
	}
	return v.AsString()
}
