package checks

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoadDecisions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "terraform.tfvars")
	if _, err := LoadDecisions(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want os.ErrNotExist", err)
	}
	src := `# hand comment
service_mesh = "linkerd"
poc_services = ["whoami", "echo"]
traefik_https_node_port = 32444
nodes = [{ name = "a", address = "10.0.0.1", arch = "arm64", role = "server" }]
enabled_stages = ["storage", "mesh"]
kubeconfig_path = "/k/config"
unknown_key = 1
services = {
  vaultwarden = { enabled = true }
  forgejo     = { enabled = false }
  echo        = { enabled = true }
  broken      = "yes"
}
`
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDecisions(p)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultDecisions()
	want.ServiceMesh = "linkerd"
	want.PoCServices = []string{"whoami", "echo"}
	want.TraefikHTTPSPort = 32444
	want.NodeNames, want.NodeArchs, want.NodeRoles = []string{"a"}, []string{"arm64"}, []string{"server"}
	want.NodeAddrs = []string{"10.0.0.1"}
	want.EnabledStages = []string{"storage", "mesh"}
	want.Scaffolded = []string{"echo", "vaultwarden"}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("LoadDecisions:\n got %+v\nwant %+v", d, want)
	}
	// The checks cover the PoC services and the enabled scaffolded ones, once each.
	if got := d.Services(); !reflect.DeepEqual(got, []string{"whoami", "echo", "vaultwarden"}) {
		t.Errorf("Services() = %v, want whoami, echo (PoC) and vaultwarden (enabled in services)", got)
	}
	if def := DefaultDecisions(); def.Domain == "" || def.TraefikHTTPSPort == 0 || len(def.NodeNames) != 3 {
		t.Errorf("defaults from the catalogue look empty: %+v", def)
	}
}
