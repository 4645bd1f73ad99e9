// Package helmrender renders the charts the repository installs through K3s
// HelmChart objects (helm.cattle.io/v1) with the Helm SDK, from the chart's
// own source in a Go module, with exactly the valuesContent the manifest
// carries: the values are checked against the chart's values.schema.json and
// against the keys the chart knows, and the rendered objects can be
// server-side dry-run against an API server. It is what K3s's helm-controller
// would install, seen before a real cluster sees it.
package helmrender

import (
	"fmt"
	"migrate-tui/internal/manifest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// HelmChart is the part of a K3s HelmChart object rendering needs.
type HelmChart struct {
	Name            string // metadata.name: the Helm release name helm-controller uses
	Repo            string // spec.repo
	Chart           string // spec.chart
	Version         string // spec.version
	TargetNamespace string // spec.targetNamespace (the release namespace)
	ValuesContent   string // spec.valuesContent, verbatim
}

// ParseHelmCharts returns the HelmChart objects of a multi-document YAML
// stream (other kinds are skipped).
func ParseHelmCharts(stream []byte) ([]HelmChart, error) {
	objs, err := manifest.Decode(stream)
	if err != nil {
		return nil, err
	}
	var out []HelmChart
	for _, o := range objs {
		if o.GetKind() != "HelmChart" || o.GroupVersionKind().Group != "helm.cattle.io" {
			continue
		}
		spec, _, _ := unstructured.NestedMap(o.Object, "spec")
		str := func(k string) string { s, _ := spec[k].(string); return s }
		hc := HelmChart{Name: o.GetName(), Repo: str("repo"), Chart: str("chart"), Version: str("version"),
			TargetNamespace: str("targetNamespace"), ValuesContent: str("valuesContent")}
		if hc.TargetNamespace == "" {
			// helm-controller installs into the HelmChart's own namespace then.
			hc.TargetNamespace = o.GetNamespace()
		}
		if hc.Chart == "" {
			return nil, fmt.Errorf("HelmChart %s has no spec.chart", o.GetName())
		}
		out = append(out, hc)
	}
	return out, nil
}
