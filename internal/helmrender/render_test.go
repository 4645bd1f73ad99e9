package helmrender

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"

	"migrate-tui/internal/k3sconfig"
	"migrate-tui/internal/testtools"
)

// stageCases are the stage runs whose HelmCharts are rendered: one per
// option that applies a different chart.
var stageCases = []struct {
	stage string
	vars  map[string]string
}{
	{"k8s/storage", map[string]string{"storage_backend": "longhorn"}},
	{"k8s/storage", map[string]string{"storage_backend": "glusterfs-nfs"}},
	{"k8s/core/service-mesh", map[string]string{"service_mesh": "linkerd"}},
	{"k8s/core/service-mesh", map[string]string{"service_mesh": "istio-ambient"}},
	{"k8s/core/vault-integration", map[string]string{"vault_method": "external-secrets"}},
	{"k8s/core/vault-integration", map[string]string{"vault_method": "agent-injector"}},
	{"k8s/core/vpa", map[string]string{"vpa_update_mode": "Off"}},
	{"k8s/core/vpa", map[string]string{"vpa_update_mode": "Recreate"}},
	{"k8s/ingress", map[string]string{"ingress_mode": "traefik-behind-external"}},
}

type foundChart struct {
	from string // where it came from: stage and option, or the cluster stage
	hc   HelmChart
}

var (
	chartsOnce sync.Once
	charts     []foundChart
	chartsErr  error
)

// repoHelmCharts are every HelmChart the repository applies: the stages'
// (as OpenTofu renders them) and the cluster stage's Cilium (as migrate-tui
// renders it into the first server's auto-deploy manifests).
func repoHelmCharts(t *testing.T) []foundChart {
	t.Helper()
	chartsOnce.Do(func() {
		for _, c := range stageCases {
			from := c.stage
			for k, v := range c.vars {
				from += " " + k + "=" + v
			}
			for _, s := range stageStreams(t, c.stage, c.vars) {
				hcs, err := ParseHelmCharts([]byte(s))
				if err != nil {
					chartsErr = err
					return
				}
				for _, hc := range hcs {
					charts = append(charts, foundChart{from, hc})
				}
			}
		}
		d := k3sconfig.Defaults()
		d.ServiceMesh = "cilium"
		b, err := k3sconfig.CiliumHelmChart(d)
		if err != nil {
			chartsErr = err
			return
		}
		hcs, err := ParseHelmCharts(b)
		if err != nil {
			chartsErr = err
			return
		}
		for _, hc := range hcs {
			charts = append(charts, foundChart{"cluster stage (k3sconfig.CiliumHelmChart)", hc})
		}
	})
	if chartsErr != nil {
		t.Fatal(chartsErr)
	}
	return charts
}

func chartFrom(t *testing.T, name string) HelmChart {
	t.Helper()
	for _, c := range repoHelmCharts(t) {
		if c.hc.Name == name {
			return c.hc
		}
	}
	t.Fatalf("no HelmChart %s among the repository's", name)
	return HelmChart{}
}

var chartLine = regexp.MustCompile(`(?m)^\s*(repo|chart):\s*(\S+)\s*$`)

// TestEveryHelmChartFileCovered keeps stageCases complete: every HelmChart
// written anywhere under k8s/ or modules-k8s/ is among the rendered ones.
func TestEveryHelmChartFileCovered(t *testing.T) {
	root, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	rendered := map[string]bool{}
	for _, c := range repoHelmCharts(t) {
		rendered[Key(c.hc.Repo, c.hc.Chart)] = true
	}
	n := 0
	for _, top := range []string{"k8s", "modules-k8s"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, doc := range strings.Split(string(b), "\n---") {
				if !strings.Contains(doc, "kind: HelmChart\n") {
					continue
				}
				var repo, chart string
				for _, m := range chartLine.FindAllStringSubmatch(doc, -1) {
					if m[1] == "repo" && repo == "" {
						repo = m[2]
					}
					if m[1] == "chart" && chart == "" {
						chart = m[2]
					}
				}
				n++
				if !rendered[Key(repo, chart)] {
					rel, _ := filepath.Rel(root, p)
					t.Errorf("%s: HelmChart %s %s is not rendered by any stage case: add the option to stageCases", rel, repo, chart)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no HelmChart found under k8s/ and modules-k8s/")
	}
}

// TestEveryHelmChartRendered renders each HelmChart whose chart source is in
// a Go module with exactly the valuesContent the repository writes, and
// server-side dry-runs every object against the test world. A chart with no
// obtainable source must be listed in Unobtainable with what was checked.
func TestEveryHelmChartRendered(t *testing.T) {
	kube, err := testtools.Version("KUBERNETES_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	rendered := 0
	for _, c := range repoHelmCharts(t) {
		t.Run(c.hc.Name+"/"+strings.ReplaceAll(c.from, "/", "_"), func(t *testing.T) {
			src, ok := SourceFor(c.hc)
			if !ok {
				reason, listed := Unobtainable[Key(c.hc.Repo, c.hc.Chart)]
				if !listed {
					t.Fatalf("%s: chart %s from %s has no Go module source and is not listed in Unobtainable", c.from, c.hc.Chart, c.hc.Repo)
				}
				t.Logf("not rendered: %s %s: %s", c.hc.Chart, c.hc.Version, reason)
				return
			}
			want, err := src.ChartVersion()
			if err != nil {
				t.Fatal(err)
			}
			if c.hc.Version != want {
				t.Errorf("%s: HelmChart %s asks for chart %s, but %s renders it from %s at %s (%s): keep them equal", c.from, c.hc.Name, c.hc.Version, src.VersionKey, src.Module, want, "hack/versions.env")
			}
			ch, err := src.Load()
			if err != nil {
				t.Fatal(err)
			}
			r, err := Render(ch, c.hc, Options{KubeVersion: kube, RESTConfig: world.RESTConfig})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Objects) == 0 {
				t.Fatalf("HelmChart %s rendered no object", c.hc.Name)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if err := DryRun(ctx, world.RESTConfig, r); err != nil {
				t.Fatal(err)
			}
			rendered++
			t.Logf("%s: %d objects, %d hooks, %d CRDs accepted by the API server", c.hc.Name, len(r.Objects), len(r.Hooks), len(r.CRDs))
		})
	}
	if rendered == 0 {
		t.Fatal("no HelmChart was rendered")
	}
}

// mutate replaces old with new in a HelmChart's valuesContent; the test
// fails when old is not there (the mutation would prove nothing).
func mutate(t *testing.T, hc HelmChart, old, new string) HelmChart {
	t.Helper()
	if !strings.Contains(hc.ValuesContent, old) {
		t.Fatalf("HelmChart %s's valuesContent has no %q to mutate:\n%s", hc.Name, old, hc.ValuesContent)
	}
	hc.ValuesContent = strings.Replace(hc.ValuesContent, old, new, 1)
	return hc
}

func renderSource(t *testing.T, hc HelmChart) (*Rendered, error) {
	t.Helper()
	src, ok := SourceFor(hc)
	if !ok {
		t.Fatalf("no source for %s", hc.Chart)
	}
	ch, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	return Render(ch, hc, Options{KubeVersion: "v1.34.3", RESTConfig: world.RESTConfig})
}

// TestMisspeltValuesKeyRefused: neither Cilium's nor ESO's schema forbids
// extra keys, so a misspelt key would be ignored by Helm; the known-keys
// check refuses it.
func TestMisspeltValuesKeyRefused(t *testing.T) {
	for _, tc := range []struct{ release, old, new, key string }{
		{"cilium", "kubeProxyReplacement:", "kubeProxyReplacment:", "kubeProxyReplacment"},
		{"cilium", "  relay:\n", "  realy:\n", "hubble.realy"},
		{"external-secrets", "installCRDs:", "installCRD:", "installCRD"},
	} {
		hc := mutate(t, chartFrom(t, tc.release), tc.old, tc.new)
		_, err := renderSource(t, hc)
		var ve *ValuesError
		if !errors.As(err, &ve) {
			t.Fatalf("%s with %s: want a ValuesError, got %v", tc.release, tc.key, err)
		}
		if !contains(ve.Unknown, tc.key) {
			t.Errorf("%s: unknown keys %v, want %s among them", tc.release, ve.Unknown, tc.key)
		}
	}
}

// TestSchemaRefusesWrongType: the chart's values.schema.json is applied.
func TestSchemaRefusesWrongType(t *testing.T) {
	hc := mutate(t, chartFrom(t, "cilium"), "exclusive: false", `exclusive: "no"`)
	_, err := renderSource(t, hc)
	var ve *ValuesError
	if !errors.As(err, &ve) || ve.Schema == nil {
		t.Fatalf("want the schema to refuse cni.exclusive as a string, got %v", err)
	}
	if !strings.Contains(ve.Schema.Error(), "exclusive") {
		t.Errorf("schema error does not name the key: %v", ve.Schema)
	}
}

// TestDryRunRefusesInvalidObject: a value the schema lets through but the
// API server refuses is caught by the dry-run.
func TestDryRunRefusesInvalidObject(t *testing.T) {
	hc := chartFrom(t, "external-secrets")
	hc.ValuesContent += "\nreplicaCount: -1\n"
	r, err := renderSource(t, hc)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = DryRun(ctx, world.RESTConfig, r)
	var oe *ObjectError
	if !errors.As(err, &oe) {
		t.Fatalf("want the API server to refuse replicas -1, got %v", err)
	}
	if !strings.Contains(err.Error(), "Deployment external-secrets/external-secrets") || !strings.Contains(err.Error(), "replicas") {
		t.Errorf("refusal does not name the Deployment and its replicas: %v", err)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestLonghornDefaultSettingsAreStrings: the Longhorn chart is not
// obtainable here, but its 1.10 templates refuse any defaultSettings value
// that is not a string (chart/templates/default-setting.yaml fails with
// "defaultSettings.<key> must be a string"; longhorn/longhorn#11940), so
// the valuesContent OpenTofu writes is checked against that rule.
func TestLonghornDefaultSettingsAreStrings(t *testing.T) {
	hc := chartFrom(t, "longhorn")
	vals, err := chartutil.ReadValues([]byte(hc.ValuesContent))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := vals.Table("defaultSettings")
	if err != nil || len(ds) == 0 {
		t.Fatalf("longhorn valuesContent has no defaultSettings: %v", err)
	}
	for k, v := range ds {
		if _, ok := v.(string); !ok {
			t.Errorf("defaultSettings.%s = %v (%T): Longhorn's chart fails unless it is a string", k, v, v)
		}
	}
}
