package helmrender

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/testtools"
)

// These tests belong to the VPA stage (k8s/core/vpa): one pin for the VPA
// the Fairwinds chart installs and the one the test world runs, and only the
// update modes that VPA takes.

var vpaGVR = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}

// TestVPAPinFollowsChart: the test world's VPA (hack/versions.env
// VPA_VERSION: its CRD and recommender) is the chart's app version.
func TestVPAPinFollowsChart(t *testing.T) {
	app := tofuConsole(t, "k8s/core/vpa", nil, "local.app_version")
	pin, err := testtools.Version("VPA_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if "v"+app != pin {
		t.Fatalf("k8s/core/vpa installs VPA %s (the Fairwinds chart's appVersion) but hack/versions.env VPA_VERSION is %s: the test world must run the VPA the chart ships", app, pin)
	}
}

// TestVPAModesAcceptedByInstalledVPA dry-runs a VerticalPodAutoscaler with
// each update mode the catalogue offers against the test world's VPA CRD
// (VPA_VERSION). InPlaceOrRecreate must not be offered: the Fairwinds chart
// 4.8.0 installs its own CRD (stable/vpa/crds/vpa-v1-crd.yaml), whose
// updateMode enum is Off, Initial, Recreate and Auto (refreshed from
// upstream only in chart 4.11.0, FairwindsOps/charts PR 1786), and VPA 1.4
// keeps in-place updates behind an alpha feature gate that is off.
func TestVPAModesAcceptedByInstalledVPA(t *testing.T) {
	d := decisions.Get("vpa_update_mode")
	if d == nil {
		t.Fatal("the catalogue has no vpa_update_mode")
	}
	offered := d.OptionValues()
	chartEnum := map[string]bool{"Off": true, "Initial": true, "Recreate": true, "Auto": true}
	for _, m := range offered {
		if !chartEnum[m] {
			t.Errorf("vpa_update_mode offers %q, which the Fairwinds chart 4.8.0's CRD refuses", m)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	try := func(mode string) error {
		vpa := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
			"metadata": map[string]any{"name": "mode-" + strings.ToLower(mode), "namespace": "default"},
			"spec": map[string]any{
				"targetRef":    map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "whoami"},
				"updatePolicy": map[string]any{"updateMode": mode},
			},
		}}
		_, err := world.Dynamic.Resource(vpaGVR).Namespace("default").Apply(ctx, vpa.GetName(), vpa,
			metav1.ApplyOptions{FieldManager: "test", DryRun: []string{metav1.DryRunAll}})
		return err
	}
	for _, m := range offered {
		if err := try(m); err != nil {
			t.Errorf("the installed VPA's CRD refuses updateMode %s, which the catalogue offers: %v", m, err)
		}
	}
	// The CRD's enum is enforced in the dry-run: a mode VPA 1.4 does not
	// know (InPlace came with 1.7) is refused.
	if err := try("InPlace"); err == nil || !strings.Contains(err.Error(), "updateMode") {
		t.Errorf("updateMode InPlace: want the CRD enum to refuse it, got %v", err)
	}
}

// TestVPAInPlaceOrRecreateRefusedByTerraform: the stage's own validation
// refuses the mode the installed VPA does not take.
func TestVPAInPlaceOrRecreateRefusedByTerraform(t *testing.T) {
	// tofu console reports a failed variable validation as an error in its
	// output (its exit code stays 0); plan and apply stop on it.
	out, _ := tofuConsoleMayFail(t, "k8s/core/vpa", map[string]string{"vpa_update_mode": "InPlaceOrRecreate"}, "local.acts")
	if !strings.Contains(out, "Invalid value for variable") {
		t.Fatalf("vpa_update_mode InPlaceOrRecreate was accepted:\n%s", out)
	}
	if !strings.Contains(out, "vpa_update_mode must be") {
		t.Errorf("the refusal does not say what vpa_update_mode takes:\n%s", out)
	}
}

var minReplicasFlag = regexp.MustCompile(`flag\.Int\("min-replicas",\s*(\d+)`)

// TestVPAUpdaterActsOnSingleReplicas: the updater skips workloads with fewer
// replicas than --min-replicas (upstream default 2, read here from the VPA
// source at VPA_VERSION), and every PoC service runs one replica. Recreate
// and Auto must pass min-replicas 1 through the chart's updater.extraArgs
// (rendered as --key=value by the chart's updater Deployment).
func TestVPAUpdaterActsOnSingleReplicas(t *testing.T) {
	v, err := testtools.Version("VPA_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := testtools.ModuleDir("k8s.io/autoscaler/vertical-pod-autoscaler", v)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "pkg", "updater", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := minReplicasFlag.FindSubmatch(src)
	if m == nil {
		t.Fatalf("VPA %s's updater has no --min-replicas flag: revisit k8s/core/vpa's updater.extraArgs", v)
	}
	t.Logf("VPA %s updater --min-replicas default: %s", v, m[1])

	for _, tc := range []struct {
		mode string
		acts bool
	}{{"Off", false}, {"Initial", true}, {"Recreate", true}, {"Auto", true}} {
		var vals chartutil.Values
		for _, s := range stageStreams(t, "k8s/core/vpa", map[string]string{"vpa_update_mode": tc.mode}) {
			hcs, err := ParseHelmCharts([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			for _, hc := range hcs {
				if hc.Chart == "vpa" {
					if vals, err = chartutil.ReadValues([]byte(hc.ValuesContent)); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if vals == nil {
			t.Fatalf("%s: the VPA stage rendered no vpa HelmChart", tc.mode)
		}
		enabled, _ := vals.PathValue("updater.enabled")
		if enabled != tc.acts {
			t.Errorf("%s: updater.enabled = %v, want %v", tc.mode, enabled, tc.acts)
		}
		mr, err := vals.PathValue("updater.extraArgs.min-replicas")
		if tc.acts && (err != nil || mr != "1") {
			t.Errorf("%s: updater.extraArgs.min-replicas = %v (%v), want \"1\" so single-replica services are updated", tc.mode, mr, err)
		}
	}
}
