package helmrender

import (
	"fmt"
	"migrate-tui/internal/manifest"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// Options are what rendering sees of the cluster.
type Options struct {
	// KubeVersion is the cluster's Kubernetes version (v1.34.3), what
	// .Capabilities.KubeVersion and the chart's kubeVersion constraint see.
	KubeVersion string
	// RESTConfig, when set, is the API server whose API versions the chart
	// sees (.Capabilities.APIVersions) and that its lookup calls read, as
	// helm-controller's install would; nil renders with Helm's defaults.
	RESTConfig *rest.Config
}

// Rendered is one release's objects, in the order Helm installs them.
type Rendered struct {
	Release, Namespace string
	// CRDs from the chart's crds/ directories: Helm creates them first.
	CRDs []*unstructured.Unstructured
	// Objects rendered from templates (templated CRDs included).
	Objects []*unstructured.Unstructured
	// Hooks are install hooks (Jobs, Secrets...); test hooks are left out,
	// helm-controller never runs them.
	Hooks []*unstructured.Unstructured
}

// ValuesError is a valuesContent the chart refuses: a key it does not know
// or a value its values.schema.json rejects.
type ValuesError struct {
	Release string
	Unknown []string // key paths the chart neither defines nor reads
	Schema  error    // the schema's verdict
}

func (e *ValuesError) Error() string {
	var parts []string
	if len(e.Unknown) > 0 {
		parts = append(parts, fmt.Sprintf("keys the chart does not know: %s", strings.Join(e.Unknown, ", ")))
	}
	if e.Schema != nil {
		parts = append(parts, e.Schema.Error())
	}
	return fmt.Sprintf("HelmChart %s: valuesContent refused (%s); fix the HelmChart's valuesContent against the chart's values.yaml and values.schema.json", e.Release, strings.Join(parts, "; "))
}

// Render renders a HelmChart's chart with its valuesContent, as
// `helm install <name> --namespace <targetNamespace>` would.
// ch is modified (disabled dependencies are removed): load it afresh for
// each render.
func Render(ch *chart.Chart, hc HelmChart, o Options) (*Rendered, error) {
	vals, err := chartutil.ReadValues([]byte(hc.ValuesContent))
	if err != nil {
		return nil, fmt.Errorf("HelmChart %s: valuesContent is not YAML: %w", hc.Name, err)
	}
	unknown := UnknownKeys(ch, vals)
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, fmt.Errorf("HelmChart %s: dependencies: %w", hc.Name, err)
	}
	caps, err := capabilities(o)
	if err != nil {
		return nil, err
	}
	top, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{
		Name: hc.Name, Namespace: hc.TargetNamespace, IsInstall: true, Revision: 1,
	}, caps)
	if err != nil || len(unknown) > 0 {
		return nil, &ValuesError{Release: hc.Name, Unknown: unknown, Schema: err}
	}
	if err := missingDependencies(ch, top); err != nil {
		return nil, fmt.Errorf("HelmChart %s: %w", hc.Name, err)
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("HelmChart %s: chart %s needs Kubernetes %s, the cluster runs %s", hc.Name, ch.Name(), ch.Metadata.KubeVersion, caps.KubeVersion.String())
	}

	var files map[string]string
	if o.RESTConfig != nil {
		files, err = engine.RenderWithClient(ch, top, o.RESTConfig)
	} else {
		files, err = engine.Render(ch, top)
	}
	if err != nil {
		return nil, fmt.Errorf("HelmChart %s: render %s: %w", hc.Name, ch.Name(), err)
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, caps.APIVersions, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("HelmChart %s: split rendered manifests: %w", hc.Name, err)
	}
	r := &Rendered{Release: hc.Name, Namespace: hc.TargetNamespace}
	for _, crd := range ch.CRDObjects() {
		objs, err := manifest.Decode(crd.File.Data)
		if err != nil {
			return nil, fmt.Errorf("HelmChart %s: %s: %w", hc.Name, crd.Filename, err)
		}
		r.CRDs = append(r.CRDs, objs...)
	}
	for _, m := range manifests {
		objs, err := manifest.Decode([]byte(m.Content))
		if err != nil {
			return nil, fmt.Errorf("HelmChart %s: %s: %w", hc.Name, m.Name, err)
		}
		r.Objects = append(r.Objects, objs...)
	}
	for _, h := range hooks {
		if isTestHook(h) {
			continue
		}
		objs, err := manifest.Decode([]byte(h.Manifest))
		if err != nil {
			return nil, fmt.Errorf("HelmChart %s: hook %s: %w", hc.Name, h.Path, err)
		}
		r.Hooks = append(r.Hooks, objs...)
	}
	return r, nil
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// missingDependencies refuses an enabled dependency whose chart the source
// does not carry (ESO's bitwarden-sdk-server comes from an OCI registry):
// rendering without it would silently drop what the real install gets.
func missingDependencies(ch *chart.Chart, top chartutil.Values) error {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	vals, _ := top["Values"].(chartutil.Values)
	for _, d := range ch.Metadata.Dependencies {
		if have[d.Name] {
			continue
		}
		enabled := d.Condition == ""
		for _, c := range strings.Split(d.Condition, ",") {
			if c = strings.TrimSpace(c); c == "" {
				continue
			}
			if v, err := vals.PathValue(c); err == nil {
				enabled, _ = v.(bool)
				break
			}
		}
		if enabled {
			return fmt.Errorf("dependency %s (%s) is enabled but its chart is not in the chart's source; turn it off (%s) or render it from its own source", d.Name, d.Repository, d.Condition)
		}
	}
	return nil
}

func capabilities(o Options) (*chartutil.Capabilities, error) {
	caps := chartutil.DefaultCapabilities.Copy()
	if o.KubeVersion != "" {
		v := strings.TrimPrefix(o.KubeVersion, "v")
		parts := strings.SplitN(v, ".", 3)
		if len(parts) < 2 {
			return nil, fmt.Errorf("kube version %q is not vMAJOR.MINOR.PATCH", o.KubeVersion)
		}
		caps.KubeVersion = chartutil.KubeVersion{Version: "v" + v, Major: parts[0], Minor: parts[1]}
	}
	if o.RESTConfig != nil {
		dc, err := discovery.NewDiscoveryClientForConfig(o.RESTConfig)
		if err != nil {
			return nil, err
		}
		vs, err := versionSet(dc)
		if err != nil {
			return nil, err
		}
		caps.APIVersions = vs
	}
	return caps, nil
}

// versionSet lists group/versions and group/version/Kinds as Helm's
// action.GetVersionSet does (without importing pkg/action's dependencies).
func versionSet(dc discovery.ServerResourcesInterface) (chartutil.VersionSet, error) {
	groups, resources, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("API versions of the cluster: %w", err)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		for _, gv := range g.Versions {
			seen[gv.GroupVersion] = true
		}
	}
	for _, r := range resources {
		for _, a := range r.APIResources {
			seen[path.Join(r.GroupVersion, a.Kind)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return chartutil.VersionSet(out), nil
}
