package helmrender

import (
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"migrate-tui/internal/manifest"
)

// The Traefik chart cannot be rendered here (not a Go module; see
// Unobtainable), so the one breaking change of the pinned major that touches
// the repository's values is checked by hand: from chart 39.0.0 an entry
// point's HTTP options sit under ports.<name>.http, and the chart's schema
// refuses them directly under ports.<name> (traefik/traefik-helm-chart
// PR #1603, "fix(ports)!: entrypoints http options"; 39.0.0's upgrade notes
// also turn schema validation on).
var entryPointHTTPOptions = []string{"tls", "middlewares", "redirections", "encodedCharacters", "encodeQuerySemicolons", "maxHeaderBytes", "sanitizePath"}

// TestTraefikEntryPointOptionsUnderHTTP: the traefik-poc HelmChart puts TLS
// on websecure where chart 39 reads it, and no HTTP option where it refuses
// one.
func TestTraefikEntryPointOptionsUnderHTTP(t *testing.T) {
	hc := chartFrom(t, "traefik-poc")
	major, err := strconv.Atoi(strings.SplitN(hc.Version, ".", 2)[0])
	if err != nil {
		t.Fatalf("traefik-poc chart version %q: %v", hc.Version, err)
	}
	if major < 39 {
		t.Fatalf("traefik-poc pins chart %s: this test checks the values layout of chart 39 and later; revisit it with the pin", hc.Version)
	}
	var values struct {
		Ports map[string]map[string]any `json:"ports"`
	}
	if err := yaml.Unmarshal([]byte(hc.ValuesContent), &values); err != nil {
		t.Fatalf("traefik-poc valuesContent: %v", err)
	}
	for name, port := range values.Ports {
		for _, k := range entryPointHTTPOptions {
			if _, ok := port[k]; ok {
				t.Errorf("ports.%s.%s: chart %s refuses entry point HTTP options outside ports.%s.http", name, k, hc.Version, name)
			}
		}
	}
	httpOpts, _ := values.Ports["websecure"]["http"].(map[string]any)
	tls, _ := httpOpts["tls"].(map[string]any)
	if tls["enabled"] != true {
		t.Errorf("ports.websecure.http.tls.enabled is %v, want true (the TLSStore's wildcard certificate is served on websecure)", tls["enabled"])
	}
}

// TestBundledTraefikConfigSetsNoEntryPointHTTPOptions: the HelmChartConfig
// for K3s's packaged Traefik must not set an entry point HTTP option at all:
// where it goes depends on the chart the chosen K3s release bundles (chart
// 39, in K3s 1.34 since k3s-io/k3s PR #13812, refuses the older place).
func TestBundledTraefikConfigSetsNoEntryPointHTTPOptions(t *testing.T) {
	var found bool
	for _, s := range stageStreams(t, "k8s/ingress", map[string]string{"ingress_mode": "bundled-traefik"}) {
		objs, err := manifest.Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.GetKind() != "HelmChartConfig" || o.GetName() != "traefik" {
				continue
			}
			found = true
			vc, _, _ := unstructured.NestedString(o.Object, "spec", "valuesContent")
			var values struct {
				Ports map[string]map[string]any `json:"ports"`
			}
			if err := yaml.Unmarshal([]byte(vc), &values); err != nil {
				t.Fatalf("HelmChartConfig traefik valuesContent: %v", err)
			}
			for name, port := range values.Ports {
				for _, k := range append([]string{"http"}, entryPointHTTPOptions...) {
					if _, ok := port[k]; ok {
						t.Errorf("HelmChartConfig traefik sets ports.%s.%s, whose place depends on the Traefik chart K3s bundles", name, k)
					}
				}
			}
		}
	}
	if !found {
		t.Fatal("the ingress stage (bundled-traefik) rendered no HelmChartConfig traefik")
	}
}
