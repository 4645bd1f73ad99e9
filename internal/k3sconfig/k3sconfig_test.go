package k3sconfig

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// decisionSets covers every topology, CNI choice and a custom installer.
func decisionSets() map[string]Decisions {
	ha := Defaults()

	one := Defaults()
	one.Topology = TopologyOneServer
	one.Nodes[1].Role = RoleAgent
	one.Nodes[2].Role = RoleAgent
	one.ServiceMesh = "linkerd"
	one.Disable = []string{"traefik", "servicelb", "traefik"}
	one.NodePortRange = "30000-30999"

	bundled := Defaults()
	bundled.ServiceMesh = "istio-ambient"
	bundled.Disable = []string{"servicelb"}
	bundled.ClusterCIDR = "10.52.0.0/16"
	bundled.ServiceCIDR = "10.53.0.0/16"
	bundled.SystemReserved = "cpu=500m,memory=1Gi"
	bundled.InstallerURL = "/opt/stand-in/k3s-install.sh"

	return map[string]Decisions{"ha-cilium": ha, "one-server-linkerd": one, "ha-istio-local-installer": bundled}
}

func TestRenderGolden(t *testing.T) {
	for name, d := range decisionSets() {
		t.Run(name, func(t *testing.T) {
			files, err := Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != len(d.Nodes) {
				t.Fatalf("rendered %d nodes, want %d", len(files), len(d.Nodes))
			}
			for _, f := range files {
				goldens := map[string][]byte{"config.yaml": f.Config, "install.sh": f.Install, "uninstall.sh": f.Uninstall}
				for _, m := range f.Manifests {
					goldens["manifests/"+filepath.Base(m.Path)] = m.Body
				}
				for file, got := range goldens {
					golden := filepath.Join("testdata", name, f.Node.Name, file)
					if *update {
						if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(golden, got, 0o644); err != nil {
							t.Fatal(err)
						}
						continue
					}
					want, err := os.ReadFile(golden)
					if err != nil {
						t.Fatalf("%v (run go test ./internal/k3sconfig -update to create it)", err)
					}
					if string(want) != string(got) {
						t.Errorf("%s differs from the golden file; if the change is intended run with -update.\n--- got\n%s", golden, got)
					}
				}
			}
		})
	}
}

// TestRenderSemantics checks what each role's config must say, independently
// of the golden files.
func TestRenderSemantics(t *testing.T) {
	for name, d := range decisionSets() {
		t.Run(name, func(t *testing.T) {
			files, err := Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if files[0].Role != RoleServerInit {
				t.Fatalf("first node to install is %s (%s), want the first server with cluster-init", files[0].Node.Name, files[0].Role)
			}
			inits := 0
			for _, f := range files {
				var cfg map[string]any
				if err := yaml.Unmarshal(f.Config, &cfg); err != nil {
					t.Fatalf("%s: config.yaml is not YAML: %v\n%s", f.Node.Name, err, f.Config)
				}
				if !strings.Contains(string(f.Install), string(f.Config)) {
					t.Errorf("%s: install.sh does not carry config.yaml verbatim", f.Node.Name)
				}
				// Servers join with the server token and share the agent
				// token; agents get only the agent token.
				wantToken, wantAgentToken := any(TokenFile), any(AgentTokenFile)
				if f.Role == RoleAgent {
					wantToken, wantAgentToken = AgentTokenFile, nil
				}
				if cfg["token-file"] != wantToken || cfg["agent-token-file"] != wantAgentToken || cfg["token"] != nil || cfg["agent-token"] != nil {
					t.Errorf("%s (%s): want token-file %v, agent-token-file %v and no inline token, got %v / %v / %v", f.Node.Name, f.Role,
						wantToken, wantAgentToken, cfg["token-file"], cfg["agent-token-file"], cfg["token"])
				}
				if f.Role == RoleAgent && strings.Contains(string(f.Install), TokenFile) {
					t.Errorf("%s: an agent's install script asks for the server token %s", f.Node.Name, TokenFile)
				}
				// The uninstall never runs K3s's killall (which deletes
				// Nomad's CNI- rules and /var/lib/cni).
				for _, bad := range []string{"\n/usr/local/bin/k3s-killall.sh", "\n/usr/local/bin/k3s-uninstall.sh", "\n\"$UNINSTALL\"", "rm -rf /var/lib/cni/\n", "rm -rf /var/lib/cni\n"} {
					if strings.Contains(string(f.Uninstall), bad) {
						t.Errorf("%s: uninstall.sh runs %q", f.Node.Name, strings.TrimSpace(bad))
					}
				}
				// The Cilium HelmChart goes to the first server only.
				wantManifests := 0
				if f.Role == RoleServerInit && d.ServiceMesh == "cilium" {
					wantManifests = 1
				}
				if len(f.Manifests) != wantManifests {
					t.Errorf("%s (%s, mesh %s): %d manifests, want %d", f.Node.Name, f.Role, d.ServiceMesh, len(f.Manifests), wantManifests)
				}
				for _, m := range f.Manifests {
					if m.Path != CiliumManifestPath || !strings.HasPrefix(m.Path, ManifestsDir+"/") {
						t.Errorf("%s: manifest at %s, want %s", f.Node.Name, m.Path, CiliumManifestPath)
					}
				}
				args, _ := cfg["kubelet-arg"].([]any)
				if !reflect.DeepEqual(args, []any{"system-reserved=" + d.SystemReserved, "kube-reserved=" + d.KubeReserved}) {
					t.Errorf("%s: kubelet-arg = %v", f.Node.Name, args)
				}
				switch f.Role {
				case RoleServerInit:
					inits++
					if cfg["cluster-init"] != true || cfg["server"] != nil {
						t.Errorf("%s: first server needs cluster-init and no server URL: %v", f.Node.Name, cfg)
					}
				case RoleServer, RoleAgent:
					if cfg["cluster-init"] != nil || cfg["server"] != "https://"+files[0].Node.Address+":6443" {
						t.Errorf("%s (%s): must join https://%s:6443 without cluster-init: %v", f.Node.Name, f.Role, files[0].Node.Address, cfg)
					}
				}
				if f.Role == RoleAgent {
					for _, k := range []string{"cluster-cidr", "disable", "tls-san", "flannel-backend"} {
						if cfg[k] != nil {
							t.Errorf("%s: agent config has server-only key %s", f.Node.Name, k)
						}
					}
					if !strings.Contains(string(f.Uninstall), "UNIT='k3s-agent'") {
						t.Errorf("%s: agent uninstall must stop k3s-agent", f.Node.Name)
					}
					continue
				}
				if cfg["cluster-cidr"] != d.ClusterCIDR || cfg["service-cidr"] != d.ServiceCIDR || cfg["service-node-port-range"] != d.NodePortRange {
					t.Errorf("%s: CIDRs/node ports = %v %v %v", f.Node.Name, cfg["cluster-cidr"], cfg["service-cidr"], cfg["service-node-port-range"])
				}
				cilium := d.ServiceMesh == "cilium"
				if (cfg["flannel-backend"] == "none") != cilium || (cfg["disable-network-policy"] == true) != cilium || (cfg["disable-kube-proxy"] == true) != cilium {
					t.Errorf("%s: flannel/network policy/kube-proxy settings do not match service_mesh %s: %v", f.Node.Name, d.ServiceMesh, cfg)
				}
				sans, _ := cfg["tls-san"].([]any)
				if !slicesContain(sans, f.Node.Address) {
					t.Errorf("%s: tls-san %v lacks its own address", f.Node.Name, sans)
				}
			}
			if inits != 1 {
				t.Errorf("%d nodes with cluster-init, want 1", inits)
			}
		})
	}
}

func slicesContain(l []any, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// TestScriptsShellcheck runs Debian's shellcheck on every rendered script.
func TestScriptsShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck not found: apt-get install -y shellcheck (hack/test.sh installs it)")
	}
	dir := t.TempDir()
	var scripts []string
	for name, d := range decisionSets() {
		files, err := Render(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			for file, body := range map[string][]byte{"install.sh": f.Install, "uninstall.sh": f.Uninstall} {
				p := filepath.Join(dir, name+"-"+f.Node.Name+"-"+file)
				if err := os.WriteFile(p, body, 0o755); err != nil {
					t.Fatal(err)
				}
				scripts = append(scripts, p)
			}
		}
	}
	out, err := exec.Command(sc, append([]string{"--shell=sh", "--severity=style"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck found problems in the rendered scripts: %v\n%s", err, out)
	}
}

func TestValidateRefuses(t *testing.T) {
	cases := map[string]func(*Decisions){
		"even servers for HA":           func(d *Decisions) { d.Nodes = d.Nodes[:2] },
		"two servers for one-server":    func(d *Decisions) { d.Topology = TopologyOneServer; d.Nodes[2].Role = RoleAgent },
		"bad version":                   func(d *Decisions) { d.K3sVersion = "1.34" },
		"overlapping CIDRs":             func(d *Decisions) { d.ServiceCIDR = "10.42.128.0/17" },
		"reversed node ports":           func(d *Decisions) { d.NodePortRange = "32767-32001" },
		"unknown component":             func(d *Decisions) { d.Disable = []string{"flannel"} },
		"shell in installer URL":        func(d *Decisions) { d.InstallerURL = "https://x/$(id)" },
		"quote in node name":            func(d *Decisions) { d.Nodes[0].Name = "a'b" },
		"bad reserved":                  func(d *Decisions) { d.KubeReserved = "cpu=1;reboot" },
		"address with a space":          func(d *Decisions) { d.Nodes[1].Address = "10.0.0.1 x" },
		"node listed twice":             func(d *Decisions) { d.Nodes[1].Name = d.Nodes[0].Name },
		"unknown role":                  func(d *Decisions) { d.Nodes[1].Role = "worker" },
		"unknown topology":              func(d *Decisions) { d.Topology = "5-servers" },
		"service CIDR without DNS room": func(d *Decisions) { d.ServiceCIDR = "10.43.0.0/30" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			d := Defaults()
			d.Nodes = append([]Node(nil), d.Nodes...)
			mutate(&d)
			if _, err := Render(d); err == nil {
				t.Fatal("Render accepted it")
			}
		})
	}
}

// TestDefaultsMatchVariablesTF keeps Defaults() in step with the contract.
func TestDefaultsMatchVariablesTF(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, "variables.tf")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	content, diags := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// Build a tfvars file from the defaults and read it back through FromTFVars.
	var b strings.Builder
	for _, blk := range content.Blocks {
		attrs, _ := blk.Body.JustAttributes()
		if a, ok := attrs["default"]; ok {
			b.WriteString(blk.Labels[0] + " = ")
			b.Write(a.Expr.Range().SliceBytes(src))
			b.WriteString("\n")
		}
	}
	got, err := FromTFVars([]byte(b.String()), "defaults.tfvars", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults() differs from variables.tf:\n Defaults()    %+v\n variables.tf  %+v", want, got)
	}
}

func TestFromTFVars(t *testing.T) {
	src := `
control_plane_topology = "1-server-2-agents"
service_mesh           = "none"
k3s_disable            = ["traefik"]
nodes = [
  { name = "a", address = "10.9.0.2", arch = "amd64", role = "server" },
  { name = "b", address = "10.9.0.6", arch = "arm64", role = "agent" },
]
`
	d, err := FromTFVars([]byte(src), "terraform.tfvars", "/tmp/stand-in.sh")
	if err != nil {
		t.Fatal(err)
	}
	if d.Topology != TopologyOneServer || d.ServiceMesh != "none" || len(d.Nodes) != 2 || d.Nodes[1].Role != RoleAgent ||
		!reflect.DeepEqual(d.Disable, []string{"traefik"}) || d.InstallerURL != "/tmp/stand-in.sh" || d.K3sVersion != Defaults().K3sVersion {
		t.Fatalf("FromTFVars = %+v", d)
	}
	if _, err := FromTFVars([]byte(`nodes = "x"`), "bad.tfvars", ""); err == nil {
		t.Fatal("FromTFVars accepted nodes as a string")
	}
}
