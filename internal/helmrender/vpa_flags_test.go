package helmrender

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"

	"migrate-tui/internal/testtools"
)

// vpaFlag matches a flag definition in the VPA source: flag.Float64("name", default, ...).
var vpaFlag = regexp.MustCompile(`flag\.(?:Int|Int64|Float64|Bool|String|Duration)\("([a-z0-9-]+)",\s*([^,]+),`)

// vpaFlagDefaults reads the flags (name => default as written) defined
// under one component's directory of the VPA module at VPA_VERSION.
func vpaFlagDefaults(t *testing.T, component string) map[string]string {
	t.Helper()
	v, err := testtools.Version("VPA_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := testtools.ModuleDir("k8s.io/autoscaler/vertical-pod-autoscaler", v)
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]string{}
	err = filepath.WalkDir(filepath.Join(dir, "pkg", component), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range vpaFlag.FindAllSubmatch(src, -1) {
			flags[string(m[1])] = strings.TrimSpace(string(m[2]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) == 0 {
		t.Fatalf("no flags found under pkg/%s of VPA %s", component, v)
	}
	return flags
}

// TestVPAExtraArgsAreVPAFlags: the chart passes each extraArgs key as
// --key=value to the component, and VPA exits on a flag it does not define,
// so every key must be a flag of that component at the pinned VPA. The
// recommender's are stated as upstream defaults: their values must be.
func TestVPAExtraArgsAreVPAFlags(t *testing.T) {
	var vals chartutil.Values
	for _, s := range stageStreams(t, "k8s/core/vpa", map[string]string{"vpa_update_mode": "Recreate"}) {
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
		t.Fatal("the VPA stage rendered no vpa HelmChart")
	}
	for _, component := range []string{"recommender", "updater"} {
		args, err := vals.Table(component + ".extraArgs")
		if err != nil {
			t.Errorf("%s.extraArgs: %v", component, err)
			continue
		}
		flags := vpaFlagDefaults(t, component)
		for k, v := range args {
			def, ok := flags[k]
			if !ok {
				t.Errorf("%s.extraArgs.%s: VPA's %s defines no --%s", component, k, component, k)
				continue
			}
			if component != "recommender" {
				continue
			}
			want, err1 := strconv.ParseFloat(def, 64)
			got, err2 := strconv.ParseFloat(strings.TrimSpace(toString(v)), 64)
			if err1 != nil || err2 != nil || want != got {
				t.Errorf("recommender.extraArgs.%s = %v, but the comment says upstream default, which is %s", k, v, def)
			}
		}
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	return ""
}
