package stages

import (
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

// The services stage verifies the objects of the scaffolded modules
// (services.generated.tf's module.scaffolded_*) with the PoC services',
// and no other stage's.
func TestServicesVerifyCoversScaffolded(t *testing.T) {
	res := func(addr, kind, name string) *tfjson.StateResource {
		return &tfjson.StateResource{Address: addr, Type: "kubectl_manifest",
			AttributeValues: map[string]any{"api_version": "apps/v1", "kind": kind, "name": name, "namespace": "poc"}}
	}
	st := &tfjson.State{Values: &tfjson.StateValues{RootModule: &tfjson.StateModule{ChildModules: []*tfjson.StateModule{
		{Address: "module.whoami[0]", Resources: []*tfjson.StateResource{res("module.whoami[0].kubectl_manifest.deployment", "Deployment", "whoami")}},
		{Address: "module.scaffolded_vaultwarden[0]", ChildModules: []*tfjson.StateModule{{Address: "module.scaffolded_vaultwarden[0].module.apply",
			Resources: []*tfjson.StateResource{res(`module.scaffolded_vaultwarden[0].module.apply.kubectl_manifest.this["Deployment/vaultwarden"]`, "Deployment", "vaultwarden")}}}},
		{Address: "module.ingress[0]", Resources: []*tfjson.StateResource{res("module.ingress[0].kubectl_manifest.x", "Deployment", "traefik")}},
	}}}}
	got := map[string]bool{}
	for _, m := range stageManifests(st, "services") {
		got[m.Name] = true
	}
	if !got["whoami"] || !got["vaultwarden"] || got["traefik"] || len(got) != 2 {
		t.Fatalf("services stage verifies %v; want whoami and the scaffolded vaultwarden only", got)
	}
	for _, m := range stageManifests(st, "ingress") {
		if m.Name == "vaultwarden" {
			t.Fatal("the ingress stage verifies a scaffolded module")
		}
	}
}
