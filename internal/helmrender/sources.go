package helmrender

import (
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"migrate-tui/internal/testtools"
)

// Source is where a chart's own source is: a directory inside a Go module,
// at the module version hack/versions.env pins. The HelmChart that installs
// it must ask for the chart version that matches that module version.
type Source struct {
	Repo       string // HelmChart spec.repo the chart is published at
	Chart      string // HelmChart spec.chart
	Module     string
	VersionKey string // key in hack/versions.env
	Dir        string // the chart's directory inside the module
}

// Sources are the charts rendered from their own source. Checked: the module
// zips carry the chart directory with Chart.yaml, values.yaml and
// values.schema.json.
var Sources = []Source{
	// install/kubernetes/cilium: Chart.yaml version = the release tag.
	{Repo: "https://helm.cilium.io", Chart: "cilium", Module: "github.com/cilium/cilium",
		VersionKey: "CILIUM_VERSION", Dir: "install/kubernetes/cilium"},
	// deploy/charts/external-secrets. At tag v0.20.4 its Chart.yaml still says
	// 0.20.3: the project bumps the chart metadata after tagging, so the
	// module version, not Chart.yaml, is what the HelmChart pin follows.
	{Repo: "https://charts.external-secrets.io", Chart: "external-secrets", Module: "github.com/external-secrets/external-secrets",
		VersionKey: "EXTERNAL_SECRETS_VERSION", Dir: "deploy/charts/external-secrets"},
}

// Unobtainable are the charts the repository installs whose source no Go
// module served by the module proxy carries, with what was checked. Their
// rendering is not proven here; their CRDs (where the test world has them)
// are pinned to the chart's app version instead.
var Unobtainable = map[string]string{
	"https://helm.linkerd.io/edge linkerd-crds":                   "github.com/linkerd/linkerd2 (charts/) is refused by the Go module proxy",
	"https://helm.linkerd.io/edge linkerd-control-plane":          "github.com/linkerd/linkerd2 (charts/) is refused by the Go module proxy",
	"https://istio-release.storage.googleapis.com/charts base":    "istio.io/istio (manifests/charts) is served only at development pseudo-versions, none of them the pinned release",
	"https://istio-release.storage.googleapis.com/charts istiod":  "istio.io/istio (manifests/charts) is served only at development pseudo-versions, none of them the pinned release",
	"https://istio-release.storage.googleapis.com/charts cni":     "istio.io/istio (manifests/charts) is served only at development pseudo-versions, none of them the pinned release",
	"https://istio-release.storage.googleapis.com/charts ztunnel": "istio.io/istio (manifests/charts) is served only at development pseudo-versions, none of them the pinned release",
	"https://charts.fairwinds.com/stable vpa":                     "FairwindsOps/charts (stable/vpa) is refused by the Go module proxy (and has no go.mod)",
	// The proxy serves traefik-helm-chart (as +incompatible) and vault-helm
	// (with a synthesized go.mod), but neither has a go.mod: they are not Go
	// modules, and the module proxy is not a way to fetch other source.
	"https://traefik.github.io/charts traefik":                                                          "traefik/traefik-helm-chart is not a Go module (it has no go.mod)",
	"https://helm.releases.hashicorp.com vault":                                                         "hashicorp/vault-helm is not a Go module (it has no go.mod)",
	"https://charts.longhorn.io longhorn":                                                               "longhorn/longhorn (chart/) is refused by the Go module proxy",
	"https://kubernetes-sigs.github.io/nfs-subdir-external-provisioner nfs-subdir-external-provisioner": "kubernetes-sigs/nfs-subdir-external-provisioner is refused by the Go module proxy",
}

// Key names a published chart: "repo chart".
func Key(repo, chart string) string { return strings.TrimSuffix(repo, "/") + " " + chart }

// SourceFor returns the source of a HelmChart's chart, if one is known.
func SourceFor(hc HelmChart) (Source, bool) {
	for _, s := range Sources {
		if Key(s.Repo, s.Chart) == Key(hc.Repo, hc.Chart) {
			return s, true
		}
	}
	return Source{}, false
}

// ModuleVersion is the pinned module version (hack/versions.env).
func (s Source) ModuleVersion() (string, error) { return testtools.Version(s.VersionKey) }

// ChartVersion is the chart version the pinned module corresponds to: the
// module version without its "v".
func (s Source) ChartVersion() (string, error) {
	v, err := s.ModuleVersion()
	return strings.TrimPrefix(v, "v"), err
}

// Load reads the chart from the module cache (downloading the module through
// the Go module proxy when it is not there yet).
func (s Source) Load() (*chart.Chart, error) {
	v, err := s.ModuleVersion()
	if err != nil {
		return nil, err
	}
	dir, err := testtools.ModuleDir(s.Module, v)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w (%s)", s.Chart, err, testtools.BootstrapHint)
	}
	ch, err := loader.LoadDir(dir + "/" + s.Dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s from %s@%s/%s: %w", s.Chart, s.Module, v, s.Dir, err)
	}
	return ch, nil
}
