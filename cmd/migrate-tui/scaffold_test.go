package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/scaffold"
	"migrate-tui/internal/testtools"
	"migrate-tui/internal/tfrunner/tftest"
	"migrate-tui/internal/tfvars"
)

func runScaffoldCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(strings.NewReader(""), &out, &errOut)
	root.SetArgs(append([]string{"scaffold"}, args...))
	err := root.Execute()
	code := exitCode(err)
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// TestScaffoldCommand: every service job of the simulator's Nomad (its seed
// and two registered homelab jobs) dry-runs to a YAML stream rendered by
// tofu; a real scaffold writes the module, refuses to overwrite it, and
// --force regenerates it.
func TestScaffoldCommand(t *testing.T) {
	tofu := tftest.Tofu(t)
	// The command runs in this process: its tofu reads this environment.
	for k, v := range tftest.Env(t) {
		t.Setenv(k, v)
	}
	t.Setenv("TF_PLUGIN_CACHE_DIR", t.TempDir())
	repo, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sim := nomadsim.New(nomadsim.Options{Token: "scaffold-token"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	t.Setenv("NOMAD_ADDR", sim.URL())
	t.Setenv("NOMAD_TOKEN", sim.Token())
	cfg := api.DefaultConfig()
	cfg.Address, cfg.SecretID = sim.URL(), sim.Token()
	nc, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"jellyfin", "restic-backup"} {
		b, err := os.ReadFile(filepath.Join(repo, "internal/scaffold/testdata/jobs", f+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var j api.Job
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatal(err)
		}
		if _, _, err := nc.Jobs().Register(&j, nil); err != nil {
			t.Fatalf("register %s in the simulator: %v", f, err)
		}
	}
	jobs := sim.Jobs()
	if len(jobs) < 3 {
		t.Fatalf("the simulator holds %v; want its seed and the registered jobs", jobs)
	}
	for _, id := range jobs {
		t.Run(id, func(t *testing.T) {
			out, errOut, code := runScaffoldCmd(t, id, "--dir", repo, "--dry-run", "-o", "yaml", "--tf-binary", tofu)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			kinds := decodeKinds(t, out)
			if kinds["Deployment"]+kinds["CronJob"]+kinds["Job"] == 0 {
				t.Fatalf("no workload in the dry-run output (%v):\n%s", kinds, out)
			}
			if !strings.Contains(errOut, "not mapped") && !strings.Contains(errOut, "everything in the job was mapped") {
				t.Errorf("the dry-run did not report what it could not map: %q", errOut)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(repo, "modules-k8s", "jellyfin")); err == nil {
		t.Fatal("--dry-run wrote into the repository")
	}

	dir := t.TempDir()
	out, errOut, code := runScaffoldCmd(t, "jellyfin", "--dir", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep scaffoldReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if rep.Service != "jellyfin" || len(rep.Mapped) == 0 || len(rep.Unmapped) == 0 {
		t.Fatalf("report %+v: want mapped and unmapped items (the GPU model constraint is not mappable)", rep)
	}
	mainTF := filepath.Join(dir, "modules-k8s", "jellyfin", "main.tf")
	if b, err := os.ReadFile(mainTF); err != nil || !strings.Contains(string(b), "NOT MAPPED") {
		t.Fatalf("main.tf missing or without the unmapped comments: %v", err)
	}
	// Enabled: its module block in services.generated.tf, switched on in
	// terraform.tfvars.
	if rep.Enabled == nil || !*rep.Enabled {
		t.Errorf("report enabled = %v, want true", rep.Enabled)
	}
	if names, err := scaffold.GeneratedServices(filepath.Join(dir, scaffold.GeneratedRoot)); err != nil || !slices.Equal(names, []string{"jellyfin"}) {
		t.Fatalf("module blocks in %s: %v (%v), want [jellyfin]", scaffold.GeneratedRoot, names, err)
	}
	vals, _, err := tfvars.Read(filepath.Join(dir, tfvars.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if sv, ok := vals["services"]; !ok || !sv.GetAttr("jellyfin").GetAttr("enabled").True() {
		t.Fatalf("terraform.tfvars services = %#v, want jellyfin enabled", vals["services"])
	}
	if _, errOut, code := runScaffoldCmd(t, "jellyfin", "--service", "whoami", "--dir", dir); code != exitDeclined || !strings.Contains(errOut, "--service") {
		t.Fatalf("scaffolding as whoami: exit %d (%s), want %d naming --service", code, errOut, exitDeclined)
	}
	if _, err := os.Stat(filepath.Join(dir, "modules-k8s", "whoami")); err == nil {
		t.Fatal("a refused scaffold wrote modules-k8s/whoami")
	}
	if _, errOut, code := runScaffoldCmd(t, "jellyfin", "--dir", dir); code != exitDeclined || !strings.Contains(errOut, "--force") {
		t.Fatalf("a second scaffold: exit %d (%s), want %d naming --force", code, errOut, exitDeclined)
	}
	if _, errOut, code := runScaffoldCmd(t, "jellyfin", "--dir", dir, "--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runScaffoldCmd(t, "no-such-job", "--dir", dir); code != exitFailed || !strings.Contains(errOut, "no-such-job") {
		t.Fatalf("a missing job: exit %d (%s), want %d naming it", code, errOut, exitFailed)
	}
}

func decodeKinds(t *testing.T, stream string) map[string]int {
	t.Helper()
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(stream), 4096)
	kinds := map[string]int{}
	for {
		var m map[string]any
		if err := d.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not YAML: %v\n%s", err, stream)
		}
		if k, ok := m["kind"].(string); ok {
			kinds[k]++
		}
	}
	return kinds
}
