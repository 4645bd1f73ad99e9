package tfcode

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	"github.com/zclconf/go-cty/cty"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/scaffold"
	"migrate-tui/internal/tfvars"
)

// enabledService is the scaffolded module switched on (Litestream tasks, a
// Vault template: an ExternalSecret and init/sidecar containers).
const enabledService = "vaultwarden"

// TestApplyScaffoldedNextToPoC: every service job of the sandbox's Nomad
// (the simulator's seed, read through nomad/api) is scaffolded into a copy
// of the repository and gets its block in services.generated.tf; one is
// enabled in terraform.tfvars (the example, as an operator's file), and so
// is every realistic job of the scaffold package. One plain tofu apply of
// the root then creates the enabled modules' objects next to the PoC
// services, none of the disabled ones, plans clean a second time and
// destroys.
func TestApplyScaffoldedNextToPoC(t *testing.T) {
	if world == nil {
		t.Fatal("no test world (TestMain)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := copyConfig(t)
	if err := os.Rename(filepath.Join(dir, "terraform.tfvars.example"), filepath.Join(dir, "terraform.tfvars")); err != nil {
		t.Fatal(err)
	}

	sim := nomadsim.New(nomadsim.Options{Token: "tfcode-token"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cfg := nomad.DefaultConfig()
	cfg.Address, cfg.SecretID = sim.URL(), sim.Token()
	nc, err := nomad.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stubs, _, err := nc.Jobs().List(&nomad.QueryOptions{Namespace: nomad.AllNamespacesNamespace})
	if err != nil {
		t.Fatal(err)
	}
	var scaffolded []string
	for _, st := range stubs {
		if st.Type != "service" || st.ParentID != "" {
			continue
		}
		job, _, err := nc.Jobs().Info(st.ID, &nomad.QueryOptions{Namespace: st.Namespace})
		if err != nil {
			t.Fatal(err)
		}
		mod, err := scaffold.Build(job, scaffold.Options{})
		if err != nil {
			t.Fatalf("scaffold %s: %v", st.ID, err)
		}
		var rn *scaffold.ReservedNameError
		if err := scaffold.CanEnable(mod.Service); errors.As(err, &rn) {
			// whoami, echo, overseerr: main.tf's own PoC modules.
			continue
		}
		if _, err := mod.Write(dir, false); err != nil {
			t.Fatal(err)
		}
		if err := scaffold.Enable(dir, mod.Service, mod.Service == enabledService); err != nil {
			t.Fatal(err)
		}
		scaffolded = append(scaffolded, mod.Service)
	}
	if !slices.Contains(scaffolded, enabledService) || len(scaffolded) < 3 {
		t.Fatalf("scaffolded %v; want %s among at least three service jobs", scaffolded, enabledService)
	}
	fixtures := scaffoldFixtures(t, dir, scaffolded)
	// An operator's overrides in the services entry reach the module.
	setServiceEntry(t, dir, "sonarr", map[string]cty.Value{
		"volume_size": cty.StringVal("5Gi"), "litestream_vault_key": cty.StringVal("default/sonarr-rehearsal")})
	t.Logf("scaffolded %v, enabled %s and the realistic jobs %v", scaffolded, enabledService, fixtures)

	b, _ := json.Marshal(map[string]any{"kubeconfig_path": world.Kubeconfig})
	if err := os.WriteFile(filepath.Join(dir, "world.tfvars.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	varArgs := []string{"-var-file=world.tfvars.json"}
	tf := newTofu(t, dir)
	tf.must(t, ctx, "init", "-input=false", "-no-color")
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_, _, _ = tf.run(context.Background(), append([]string{"destroy", "-auto-approve", "-no-color"}, varArgs...)...)
		}
	})
	tf.must(t, ctx, append([]string{"apply", "-auto-approve", "-no-color"}, varArgs...)...)

	objs := stateObjects(t, ctx, tf)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(world.RESTConfig)))
	for _, o := range objs {
		if _, err := getObject(ctx, mapper, o); err != nil {
			t.Errorf("%s: applied but not readable from the API server: %v", o.key, err)
		}
	}
	checkWanted(t, objs, []string{"Deployment/poc/whoami", "StatefulSet/poc/overseerr", "Deployment/poc/" + enabledService}, nil)
	// Its Vault template became an ExternalSecret of its own.
	if !slices.ContainsFunc(objs, func(o object) bool {
		return strings.HasPrefix(o.key, "ExternalSecret/poc/"+enabledService+"-")
	}) {
		t.Errorf("no ExternalSecret of %s was applied", enabledService)
	}
	// Every realistic job's workloads are in the cluster beside the PoC's.
	for _, f := range fixtures {
		if !slices.ContainsFunc(objs, func(o object) bool {
			return slices.Contains([]string{"Deployment/poc/" + f, "CronJob/poc/" + f, "Job/poc/" + f}, o.key)
		}) {
			t.Errorf("the realistic job %s is enabled, but its workload was not applied", f)
		}
	}
	for _, o := range objs {
		for _, s := range scaffolded {
			if s != enabledService && strings.HasSuffix(o.key, "/poc/"+s) {
				t.Errorf("%s is not enabled in services but %s was applied", s, o.key)
			}
		}
	}
	out := tf.must(t, ctx, "output", "-json", "service_urls")
	var urls map[string]string
	if err := json.Unmarshal([]byte(out), &urls); err != nil {
		t.Fatalf("service_urls %q: %v", out, err)
	}
	// Every service answers at its PoC host (poc_host_pattern), the PoC's
	// own as well as the scaffolded one: Nomad keeps <service>.<domain>.
	if !strings.HasPrefix(urls[enabledService], "https://"+enabledService+"-k8s.") || !strings.HasPrefix(urls["whoami"], "https://whoami-k8s.") {
		t.Errorf("service_urls = %v; want %s at its PoC host next to whoami", urls, enabledService)
	}

	// The enabled modules' Vault grants reach the outputs the vault stage
	// writes to Vault; a disabled module's do not.
	var pols map[string]string
	if err := json.Unmarshal([]byte(tf.must(t, ctx, "output", "-json", "vault_policies")), &pols); err != nil {
		t.Fatal(err)
	}
	if p := pols["scaffolded-sonarr"]; !strings.Contains(p, `path "nomad/data/default/sonarr-rehearsal"`) || !strings.Contains(p, `path "nomad/data/default/sonarr"`) {
		t.Errorf("vault_policies[scaffolded-sonarr] = %q; want read on its own Litestream key (services.sonarr.litestream_vault_key) and the Nomad copy's (the seed)", p)
	}
	pvc, err := world.Client.CoreV1().PersistentVolumeClaims("poc").Get(ctx, "sonarr-config", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("sonarr's claim: %v", err)
	}
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "5Gi" {
		t.Errorf("sonarr-config requests %s; want services.sonarr.volume_size 5Gi", q.String())
	}
	es, err := world.Dynamic.Resource(schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}).Namespace("poc").Get(ctx, "sonarr-litestream-0", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("sonarr's Litestream ExternalSecret: %v", err)
	}
	if data, _, _ := unstructured.NestedSlice(es.Object, "spec", "data"); len(data) == 0 || data[0].(map[string]any)["remoteRef"].(map[string]any)["key"] != "default/sonarr-rehearsal" {
		t.Errorf("sonarr's Litestream reads %v; want its own key default/sonarr-rehearsal", data)
	}
	var roles map[string]struct {
		Policies []string `json:"policies"`
	}
	if err := json.Unmarshal([]byte(tf.must(t, ctx, "output", "-json", "vault_roles")), &roles); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(roles["external-secrets"].Policies, "scaffolded-sonarr") {
		t.Errorf("External Secrets' role does not carry scaffolded-sonarr's policy: %v", roles["external-secrets"].Policies)
	}
	for name := range pols {
		for _, s := range scaffolded {
			if s != enabledService && name == "scaffolded-"+s {
				t.Errorf("%s is not enabled but its Vault policy %s is in vault_policies", s, name)
			}
		}
	}

	// With the agent injector each enabled module gets a role binding its
	// ServiceAccounts to its policy (forgejo has two workloads).
	tf.must(t, ctx, append([]string{"plan", "-var=vault_method=agent-injector", "-out=injector.plan", "-no-color"}, varArgs...)...)
	var plan struct {
		PlannedValues struct {
			Outputs map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"outputs"`
		} `json:"planned_values"`
	}
	if err := json.Unmarshal([]byte(tf.must(t, ctx, "show", "-json", "injector.plan")), &plan); err != nil {
		t.Fatal(err)
	}
	var injRoles map[string]struct {
		ServiceAccounts []string `json:"service_accounts"`
		Policies        []string `json:"policies"`
	}
	if err := json.Unmarshal(plan.PlannedValues.Outputs["vault_roles"].Value, &injRoles); err != nil {
		t.Fatalf("planned vault_roles: %v", err)
	}
	if r := injRoles["scaffolded-forgejo"]; !slices.Equal(r.ServiceAccounts, []string{"forgejo", "forgejo-runner"}) || !slices.Equal(r.Policies, []string{"scaffolded-forgejo"}) {
		t.Errorf("agent-injector role scaffolded-forgejo = %+v; want its two ServiceAccounts bound to its policy", r)
	}

	code, pout, err := tf.run(ctx, append([]string{"plan", "-detailed-exitcode", "-no-color"}, varArgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Errorf("second plan after apply is not empty (exit %d, want 0):\n%s", code, tail(pout, 6000))
	}
	tf.must(t, ctx, append([]string{"destroy", "-auto-approve", "-no-color"}, varArgs...)...)
	destroyed = true
}

// scaffoldFixtures scaffolds every realistic job of the scaffold package
// (internal/scaffold/testdata/jobs) into the configuration at dir and
// enables it; a job named like one already scaffolded gets the prefix fx-.
func scaffoldFixtures(t *testing.T, dir string, taken []string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot(t), "internal", "scaffold", "testdata", "jobs", "*.json"))
	if err != nil || len(paths) < 6 {
		t.Fatalf("want the scaffold package's six or more realistic jobs, got %d (%v)", len(paths), err)
	}
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var job nomad.Job
		if err := json.Unmarshal(b, &job); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		svc := strings.TrimSuffix(filepath.Base(p), ".json")
		if slices.Contains(taken, svc) {
			svc = "fx-" + svc
		}
		mod, err := scaffold.Build(&job, scaffold.Options{Service: svc})
		if err != nil {
			t.Fatalf("scaffold %s: %v", p, err)
		}
		if _, err := mod.Write(dir, false); err != nil {
			t.Fatal(err)
		}
		if err := scaffold.Enable(dir, svc, true); err != nil {
			t.Fatal(err)
		}
		out = append(out, svc)
	}
	return out
}

// setServiceEntry sets attributes of a services entry in dir's
// terraform.tfvars, as an operator would.
func setServiceEntry(t *testing.T, dir, svc string, attrs map[string]cty.Value) {
	t.Helper()
	tv := filepath.Join(dir, tfvars.FileName)
	vals, _, err := tfvars.Read(tv)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]cty.Value{}
	for it := vals["services"].ElementIterator(); it.Next(); {
		k, v := it.Element()
		entries[k.AsString()] = v
	}
	e := map[string]cty.Value{}
	for it := entries[svc].ElementIterator(); it.Next(); {
		k, v := it.Element()
		e[k.AsString()] = v
	}
	for k, v := range attrs {
		e[k] = v
	}
	entries[svc] = cty.ObjectVal(e)
	if err := tfvars.Update(tv, map[string]cty.Value{"services": cty.ObjectVal(entries)}, nil); err != nil {
		t.Fatal(err)
	}
}
