package decisions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

type tfVariable struct {
	name      string
	described bool
	defExpr   hcl.Expression
	condition hcl.Expression
}

func readVariables(t *testing.T) map[string]tfVariable {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, "variables.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	out := map[string]tfVariable{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "variable" {
			continue
		}
		v := tfVariable{name: b.Labels[0]}
		if a, ok := b.Body.Attributes["description"]; ok {
			dv, _ := a.Expr.Value(nil)
			v.described = dv.Type().FriendlyName() == "string" && len(dv.AsString()) > 10
		}
		if a, ok := b.Body.Attributes["default"]; ok {
			v.defExpr = a.Expr
		}
		for _, vb := range b.Body.Blocks {
			if vb.Type == "validation" {
				v.condition = vb.Body.Attributes["condition"].Expr
			}
		}
		out[v.name] = v
	}
	return out
}

// The catalogue and variables.tf (the contract) hold the same keys, the
// same defaults and the same option lists.
func TestCatalogueMatchesVariablesTF(t *testing.T) {
	vars := readVariables(t)
	for name := range vars {
		if Get(name) == nil {
			if _, ok := NotDecisions[name]; !ok {
				t.Errorf("variables.tf declares %s, which is neither in the catalogue nor in NotDecisions", name)
			}
		}
	}
	for _, d := range All() {
		v, ok := vars[d.Key]
		if !ok {
			t.Errorf("catalogue key %s is not declared in variables.tf", d.Key)
			continue
		}
		if !v.described || v.condition == nil {
			t.Errorf("%s needs a description and a validation block in variables.tf", d.Key)
		}
		if v.defExpr == nil {
			t.Errorf("%s has no default in variables.tf", d.Key)
			continue
		}
		dv, diags := v.defExpr.Value(nil)
		if diags.HasErrors() {
			t.Errorf("%s: default: %v", d.Key, diags)
			continue
		}
		got, err := d.FromCty(dv)
		if err != nil {
			t.Errorf("%s: variables.tf default does not pass the catalogue's validation: %v", d.Key, err)
			continue
		}
		if !Equal(got, d.Default) {
			t.Errorf("%s: variables.tf default %v, catalogue default %v", d.Key, got, d.Default)
		}
		if len(d.Options) > 0 {
			lits := tupleLiterals(v.condition)
			if !slices.Equal(lits, d.OptionValues()) {
				t.Errorf("%s: variables.tf allows %v, catalogue offers %v", d.Key, lits, d.OptionValues())
			}
		}
	}
	for k := range NotDecisions {
		if _, ok := vars[k]; !ok {
			t.Errorf("NotDecisions names %s, which variables.tf does not declare", k)
		}
	}
}

// tupleLiterals finds the string list in a contains([...], var.x) condition.
func tupleLiterals(e hcl.Expression) []string {
	var out []string
	hclsyntax.VisitAll(e.(hclsyntax.Node), func(n hclsyntax.Node) hcl.Diagnostics {
		tc, ok := n.(*hclsyntax.TupleConsExpr)
		if !ok || out != nil {
			return nil
		}
		for _, ex := range tc.Exprs {
			v, d := ex.Value(nil)
			if d.HasErrors() {
				return nil
			}
			out = append(out, v.AsString())
		}
		return nil
	})
	return out
}

func TestCatalogueTexts(t *testing.T) {
	keys := map[string]bool{}
	for _, d := range All() {
		if keys[d.Key] {
			t.Errorf("%s twice in the catalogue", d.Key)
		}
		keys[d.Key] = true
		if d.Title == "" || d.Question == "" || d.Why == "" || d.DefaultReason == "" {
			t.Errorf("%s lacks a title, question, why or default reason", d.Key)
		}
		if ScreenByID(d.Screen) == nil {
			t.Errorf("%s is on unknown screen %q", d.Key, d.Screen)
		}
		if err := d.Check(d.Default); err != nil {
			t.Errorf("%s: default fails its own validation: %v", d.Key, err)
		}
		for _, o := range d.Options {
			if o.Summary == "" || len(o.Pros) == 0 || len(o.Cons) == 0 || o.Homelab == "" || o.Consequences == "" {
				t.Errorf("%s option %s lacks a summary, pros, cons, homelab note or consequences", d.Key, o.Value)
			}
		}
	}
	// The five research decisions are there with the options the issue names.
	for key, want := range map[string][]string{
		"control_plane_topology": {"ha-3-servers", "1-server-2-agents"},
		"storage_backend":        {"local-path", "longhorn", "glusterfs-hostpath", "glusterfs-nfs"},
		"service_mesh":           {"cilium", "linkerd", "istio-ambient", "none"},
		"ingress_mode":           {"traefik-behind-external", "bundled-traefik", "external-direct"},
		"vault_method":           {"external-secrets", "agent-injector"},
	} {
		if d := Get(key); d == nil || !slices.Equal(d.OptionValues(), want) {
			t.Errorf("%s options = %v, want %v", key, d.OptionValues(), want)
		}
	}
	for _, sc := range Screens {
		if len(ForScreen(sc.ID)) == 0 {
			t.Errorf("screen %s asks nothing", sc.ID)
		}
	}
}

func TestDefaultsPassCrossChecks(t *testing.T) {
	if c := Check(Defaults(), DefaultContext()); len(c) != 0 {
		t.Fatalf("the recommended defaults are refused: %v", ConflictsError(c))
	}
}

func TestCrossChecks(t *testing.T) {
	nodes := func(roles ...string) []Node {
		out := []Node{}
		for i, r := range roles {
			out = append(out, Node{Name: []string{"hestia", "heracles", "nyx", "extra"}[i], Address: "192.168.1." + string(rune('5'+i)), Arch: "arm64", Role: r})
		}
		return out
	}
	cases := []struct {
		name  string
		ans   Answers
		ctx   Context
		want  string // conflict ID; "" = accepted
		fixed Answers
	}{
		{"cilium after flannel install", Answers{"service_mesh": "cilium"}, Context{InstalledMesh: "linkerd"}, "cilium-needs-flannel-off", Answers{"service_mesh": "linkerd"}},
		{"leaving cilium after install", Answers{"service_mesh": "none"}, Context{InstalledMesh: "cilium"}, "cilium-needs-flannel-off", Answers{"service_mesh": "cilium"}},
		{"cilium before install", Answers{"service_mesh": "cilium"}, Context{}, "", nil},
		{"overseerr on nfs", Answers{"storage_backend": "glusterfs-nfs", "nfs_server": "nas"}, Context{}, "litestream-not-on-nfs", Answers{"storage_backend": "local-path"}},
		{"nfs without overseerr", Answers{"storage_backend": "glusterfs-nfs", "nfs_server": "nas", "poc_services": []string{"whoami", "echo"}}, Context{}, "", nil},
		{"nfs without server", Answers{"storage_backend": "glusterfs-nfs", "poc_services": []string{"whoami"}}, Context{}, "nfs-needs-server", Answers{"nfs_server": "nas"}},
		{"local-path disabled", Answers{"k3s_disable": []string{"traefik", "servicelb", "local-storage"}}, Context{}, "local-path-needs-local-storage", Answers{"k3s_disable": []string{"traefik", "servicelb"}}},
		{"bundled traefik with hestia", Answers{"ingress_mode": "bundled-traefik", "k3s_disable": []string{}}, DefaultContext(), "bundled-traefik-clashes", Answers{"ingress_mode": "traefik-behind-external", "k3s_disable": []string{"traefik", "servicelb"}}},
		{"bundled traefik without the external host", Answers{"ingress_mode": "bundled-traefik", "k3s_disable": []string{}, "nodes": nodes("server", "server", "server")[1:2], "control_plane_topology": "1-server-2-agents"}, DefaultContext(), "", nil},
		{"bundled traefik disabled", Answers{"ingress_mode": "bundled-traefik"}, Context{}, "bundled-traefik-disabled", Answers{"k3s_disable": []string{}}},
		{"packaged traefik left on", Answers{"k3s_disable": []string{"servicelb"}}, Context{}, "packaged-traefik-must-be-off", Answers{"k3s_disable": []string{"traefik", "servicelb"}}},
		{"metrics-server disabled", Answers{"k3s_disable": []string{"traefik", "servicelb", "metrics-server"}}, Context{}, "needed-components", Answers{"k3s_disable": []string{"traefik", "servicelb"}}},
		{"nodeports in nomad range", Answers{"node_port_range": "30000-32767"}, Context{}, "nodeport-overlaps-nomad", Answers{"node_port_range": "32001-32767"}},
		{"nomad lowered", Answers{"node_port_range": "30000-32767", "nomad_dynamic_port_range": "20000-29999", "traefik_https_node_port": int64(30443), "traefik_http_node_port": int64(30080)}, Context{}, "", nil},
		{"traefik port outside range", Answers{"traefik_https_node_port": int64(30443)}, Context{}, "traefik-ports-in-range", Answers{"traefik_https_node_port": int64(32443)}},
		{"traefik ports equal", Answers{"traefik_http_node_port": int64(32443)}, Context{}, "traefik-ports-in-range", Answers{"traefik_http_node_port": int64(32080)}},
		{"pods overlap services", Answers{"service_cidr": "10.42.128.0/20"}, Context{}, "cidrs-disjoint", Answers{"service_cidr": "10.43.0.0/16"}},
		{"pods overlap docker", Answers{"cluster_cidr": "172.16.0.0/12"}, Context{}, "cidrs-disjoint", Answers{"cluster_cidr": "10.42.0.0/16"}},
		{"pods overlap lan", Answers{"lan_cidr": "10.0.0.0/8"}, Context{}, "cidrs-disjoint", Answers{"lan_cidr": "192.168.1.0/24"}},
		{"cilium default pool", Answers{"cilium_ipam_mode": "cluster-pool", "cilium_pool_cidr": "10.0.0.0/8"}, Context{}, "cilium-pool-overlaps", Answers{"cilium_ipam_mode": "kubernetes"}},
		{"cilium pool on lan", Answers{"cilium_ipam_mode": "cluster-pool", "cilium_pool_cidr": "192.168.0.0/16"}, Context{}, "cilium-pool-overlaps", Answers{"cilium_pool_cidr": "10.44.0.0/16"}},
		{"vault CA with the injector", Answers{"vault_ca_file": "/etc/vault-ca.pem", "vault_method": "agent-injector"}, Context{}, "vault-ca-needs-eso", Answers{"vault_method": "external-secrets"}},
		{"cilium pool clear", Answers{"cilium_ipam_mode": "cluster-pool", "cilium_pool_cidr": "10.44.0.0/16"}, Context{}, "", nil},
		{"pool ignored without cilium", Answers{"service_mesh": "linkerd", "cilium_ipam_mode": "cluster-pool", "cilium_pool_cidr": "10.0.0.0/8"}, Context{}, "", nil},
		{"ha with two servers", Answers{"nodes": nodes("server", "server", "agent")}, Context{}, "topology-roles", Answers{"nodes": nodes("server", "server", "server")}},
		{"one server with three", Answers{"control_plane_topology": "1-server-2-agents"}, Context{}, "topology-roles", Answers{"nodes": nodes("server", "agent", "agent")}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.ans, tc.ctx)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("refused: %v", ConflictsError(got))
				}
				return
			}
			covered[tc.want] = true
			if len(got) != 1 || got[0].ID != tc.want {
				t.Fatalf("conflicts = %+v, want exactly %s", got, tc.want)
			}
			c := got[0]
			if c.Problem == "" || c.Why == "" || c.Fix == "" || len(c.Keys) == 0 {
				t.Fatalf("conflict %s does not say what, why and what to choose instead: %+v", c.ID, c)
			}
			msg := c.Error()
			if !strings.Contains(msg, "Choose instead") {
				t.Fatalf("message %q does not say what to choose instead", msg)
			}
			fixed := tc.ans.Clone()
			for k, v := range tc.fixed {
				fixed[k] = v
			}
			if after := Check(fixed, tc.ctx); len(after) != 0 {
				t.Fatalf("following the fix still refused: %v", ConflictsError(after))
			}
		})
	}
	for _, id := range CrossCheckIDs() {
		if !covered[id] {
			t.Errorf("cross-check %s has no refusing case", id)
		}
	}
}

func TestParseTextRoundTrip(t *testing.T) {
	for _, d := range All() {
		text := d.Text(d.Default)
		v, err := d.Parse(text)
		if err != nil {
			t.Errorf("%s: Parse(Text(default)=%q): %v", d.Key, text, err)
			continue
		}
		if !Equal(v, d.Default) {
			t.Errorf("%s: round trip gave %v", d.Key, v)
		}
		raw, _ := json.Marshal(d.Default)
		if v, err := d.Decode(raw); err != nil || !Equal(v, d.Default) {
			t.Errorf("%s: Decode(%s) = %v, %v", d.Key, raw, v, err)
		}
		if v, err := d.FromCty(d.Cty(d.Default)); err != nil || !Equal(v, d.Default) {
			t.Errorf("%s: FromCty(Cty(default)) = %v, %v", d.Key, v, err)
		}
	}
	bad := map[string]string{
		"service_mesh":                "consul",
		"nodes":                       "hestia=192.168.1.5/amd64",
		"k3s_version":                 "1.34",
		"traefik_https_node_port":     "70000",
		"node_port_range":             "32767-32001",
		"overseerr_litestream_bucket": "overseerr-litestream",
		"k3s_disable":                 "traefik,traefik",
		"poc_services":                "nextcloud",
		"cluster_cidr":                "10.42.0.0",
	}
	for key, text := range bad {
		if _, err := Get(key).Parse(text); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: Parse(%q) = %v, want an error naming the key", key, text, err)
		}
	}
}

func TestDeriveRolesFromTopology(t *testing.T) {
	ctx := Context{NodeMemoryMB: map[string]int{"hestia": 3000, "heracles": 7000, "nyx": 1000}}
	a, notes := Derive(Answers{"control_plane_topology": "1-server-2-agents"}, map[string]bool{"control_plane_topology": true}, ctx)
	n := a.Nodes()
	if len(n) != 3 || n[0].Name != "heracles" || n[0].Role != "server" || n[1].Role != "agent" || n[2].Role != "agent" {
		t.Fatalf("nodes = %+v", n)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "heracles server") {
		t.Fatalf("notes = %v", notes)
	}
	if c := Check(a, ctx); len(c) != 0 {
		t.Fatalf("derived answers refused: %v", ConflictsError(c))
	}
	// Explicit nodes win.
	explicit := Answers{"control_plane_topology": "1-server-2-agents", "nodes": defaultNodes}
	b, _ := Derive(explicit, map[string]bool{"control_plane_topology": true, "nodes": true}, ctx)
	if !Equal(b.Nodes(), defaultNodes) {
		t.Fatalf("explicit nodes were changed: %+v", b.Nodes())
	}
	back, _ := Derive(a, map[string]bool{"control_plane_topology": true}, ctx)
	back["control_plane_topology"] = "ha-3-servers"
	back, _ = Derive(back, map[string]bool{"control_plane_topology": true}, ctx)
	for _, n := range back.Nodes() {
		if n.Role != "server" {
			t.Fatalf("back to HA left %s as %s", n.Name, n.Role)
		}
	}
}
