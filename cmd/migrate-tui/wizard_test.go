package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/preflight"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/stages/stageui"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tui"
)

// runCmd runs migrate-tui with args and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(strings.NewReader(stdin), &out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	code := 0
	if err != nil {
		code = exitCode(err) // what main exits with
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func simOptions(t *testing.T, repo string) tui.Options {
	sim := nomadsim.New(nomadsim.Options{Token: "wizard-test"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return tui.Options{RepoDir: repo, Preflight: preflight.Env{
		LookPath: func(name string) (string, error) { return "/usr/bin/" + name, nil },
		Connect: func() (preflight.Nomad, error) {
			c, err := nomadwatch.NewClient(sim.URL(), "wizard-test")
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	}}
}

func wait(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(patience), teatest.WithCheckInterval(20*time.Millisecond))
}

// The interactive run and `decide --answers` with the same answers write
// the same terraform.tfvars.
func TestAnswersFileReplaysInteractiveRun(t *testing.T) {
	interactive := t.TempDir()
	o := simOptions(t, interactive)
	tm := teatest.NewTestModel(t, tui.New(o, nil), teatest.WithInitialTermSize(80, 24))
	wait(t, tm, "No migration started yet")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter}) // preflight runs, then the first decision opens

	// Every default, except the mesh: Linkerd (one down in the mesh list).
	chosen := decisions.Answers{"service_mesh": "linkerd"}
	for _, sc := range decisions.Screens {
		wait(t, tm, "Decision: "+sc.Title)
		if sc.ID == "mesh" {
			tm.Send(tea.KeyMsg{Type: tea.KeyDown})
			// The cursor, not the description: at 80x24 the per-node
			// memory lines push the option's description out of view.
			wait(t, tm, "> linkerd")
		}
		for range decide.Asked(sc.ID, decisions.Effective(chosen)) {
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		}
	}
	wait(t, tm, "Not available in the wizard yet")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(patience))

	st, err := state.Load(interactive)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range decisions.Screens {
		if r := st.Record("decide." + sc.ID); r.Status != steps.Done {
			t.Fatalf("decide.%s is %s after the run", sc.ID, r.Status)
		}
	}
	// The same answers, by hand, as an operator would write them.
	answers := `# the interactive run's answers
control_plane_topology: ha-3-servers
storage_backend: local-path
service_mesh: linkerd
ingress_mode: traefik-behind-external
traefik_https_node_port: 32443
traefik_http_node_port: 32080
tls_secret_name: wildcard-tls
traefik_route_dir: ""
traefik_route_node: hestia
traefik_websecure_addr: 192.168.1.5:443
vault_method: external-secrets
vault_address: https://vault.service.consul:8200
vault_ca_file: ""
vault_kv_mount: nomad
vault_auth_mount: kubernetes-k3s
k3s_version: v1.34.3+k3s1
nodes:  # from Nomad's inventory, most free memory first
  - {name: hestia, address: 192.168.1.5, arch: amd64, role: server}
  - {name: nyx, address: 192.168.1.7, arch: arm64, role: server}
  - {name: heracles, address: 192.168.1.6, arch: arm64, role: server}
k3s_disable: [traefik, servicelb]
cluster_cidr: 10.42.0.0/16
service_cidr: 10.43.0.0/16
lan_cidr: 192.168.1.0/24
node_port_range: 32001-32767
nomad_dynamic_port_range: 20000-32000
system_reserved: cpu=250m,memory=512Mi
kube_reserved: cpu=250m,memory=512Mi
consul_dns_servers: ["192.168.1.5:8600", "192.168.1.6:8600", "192.168.1.7:8600"]
domain: brmartin.co.uk
poc_host_pattern: "{service}-k8s.{domain}"
poc_services: [whoami, echo, overseerr]
poc_namespace: poc
vpa_update_mode: "Off"
minio_endpoint: http://minio-minio.service.consul:9000
overseerr_litestream_bucket: overseerr-k8s-litestream
overseerr_litestream_version: "0.5"
overseerr_litestream_vault_key: default/overseerr-k8s
`
	replay := t.TempDir()
	f := filepath.Join(t.TempDir(), "answers.yaml")
	os.WriteFile(f, []byte(answers), 0o644)
	out, errOut, code := runCmd(t, "", "--dir", replay, "decide", "--answers", f)
	if code != 0 {
		t.Fatalf("decide --answers: exit %d: %s%s", code, out, errOut)
	}
	a, _ := os.ReadFile(filepath.Join(interactive, "terraform.tfvars"))
	b, _ := os.ReadFile(filepath.Join(replay, "terraform.tfvars"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("terraform.tfvars differ:\n--- interactive ---\n%s\n--- decide --answers ---\n%s", a, b)
	}
	// JSON answers are read the same way.
	stJSON, _ := state.Load(interactive)
	ans, _ := stJSON.Answers()
	js := []byte("{")
	first := true
	for _, k := range decisions.Keys() {
		v, ok := ans[k]
		if !ok {
			continue
		}
		if !first {
			js = append(js, ',')
		}
		first = false
		vb, _ := jsonMarshal(v)
		js = append(js, []byte(`"`+k+`":`)...)
		js = append(js, vb...)
	}
	js = append(js, '}')
	fj := filepath.Join(t.TempDir(), "answers.json")
	os.WriteFile(fj, js, 0o644)
	replayJSON := t.TempDir()
	if _, errOut, code := runCmd(t, "", "--dir", replayJSON, "decide", "--answers", fj); code != 0 {
		t.Fatalf("decide --answers json: %s", errOut)
	}
	c, _ := os.ReadFile(filepath.Join(replayJSON, "terraform.tfvars"))
	if !bytes.Equal(a, c) {
		t.Fatalf("JSON answers wrote a different file:\n%s", c)
	}
}

// The wizard takes apply's SSH flags for the cluster stage's install, with
// the same meaning (one flag set, addSSHFlags).
func TestWizardTakesTheSSHFlags(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	apply, _, err := root.Find([]string{"apply"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ssh-user", "ssh-key", "known-hosts", "k3s-installer-url"} {
		w, a := root.Flags().Lookup(name), apply.Flags().Lookup(name)
		if w == nil || a == nil {
			t.Fatalf("--%s: wizard %v, apply %v", name, w != nil, a != nil)
		}
		if w.Value.Type() != a.Value.Type() || !strings.HasSuffix(w.Usage, strings.TrimPrefix(a.Usage, "cluster stage install: ")) {
			t.Errorf("--%s differs: wizard %q (%s), apply %q (%s)", name, w.Usage, w.Value.Type(), a.Usage, a.Value.Type())
		}
	}
	if err := root.ParseFlags([]string{"--ssh-key", "/k/a", "--ssh-key", "/k/b", "--known-hosts", "/k/kh"}); err != nil {
		t.Fatalf("the wizard refuses its SSH flags: %v", err)
	}
}

// The wizard's factories: the cluster stage needs the baseline, then adopts or installs;
// the verify step mounts the checks dashboard and says why it cannot when
// there is no cluster yet.
func TestWizardFactories(t *testing.T) {
	repo := t.TempDir()
	t.Setenv("KUBECONFIG", filepath.Join(repo, "no-such-kubeconfig"))
	c := tui.NewCommon(tui.Options{RepoDir: repo})
	cluster := stageScreen(stageui.NewRuns(), stages.SSHOptions{})(c, *c.Plan.Get("stage.cluster"))
	cluster, _ = cluster.Update(cluster.Init()())
	if v := cluster.View(); !strings.Contains(v, "no Nomad baseline") || !strings.Contains(v, "Press r to try again") {
		t.Fatalf("cluster stage screen without a baseline:\n%s", v)
	}
	// Adopting and installing from the screen: internal/stages/stageui's cluster tests.
	m := verifyScreen(c, *c.Plan.Get("verify.criteria"))
	m, _ = m.Update(m.Init()())
	if v := m.View(); !strings.Contains(v, "no kubeconfig") || !strings.Contains(v, "Press r to try again") {
		t.Fatalf("verify screen without a cluster:\n%s", v)
	}
	// The Cutover step is the cutover machine's screen, not a placeholder:
	// without a cluster it says why it cannot start.
	t.Setenv("NOMAD_ADDR", "http://127.0.0.1:1")
	cs := cutoverScreen(c, *c.Plan.Get("cutover.services"))
	cs, _ = cs.Update(cs.Init()())
	if v := cs.View(); !strings.Contains(v, "no-such-") || !strings.Contains(v, "Press r to try again") || strings.Contains(v, "Not available") {
		t.Fatalf("cutover screen without a cluster:\n%s", v)
	}
}

func TestWizardNeedsATerminal(t *testing.T) {
	repo := t.TempDir()
	_, errOut, code := runCmd(t, "", "--dir", repo)
	if code != 2 || !strings.Contains(errOut, "--accessible") {
		t.Fatalf("wizard without a terminal: %d %s", code, errOut)
	}
	// The lock was released on the way out.
	if h, _ := state.ReadLock(repo); h != nil {
		t.Fatalf("lock left behind: %+v", h)
	}
	// An unparsable terraform.tfvars stops it before any screen, with the position.
	os.WriteFile(filepath.Join(repo, "terraform.tfvars"), []byte("a = [\n"), 0o644)
	_, errOut, code = runCmd(t, "", "--dir", repo)
	if code == 0 || !strings.Contains(errOut, "terraform.tfvars:") {
		t.Fatalf("wizard with a broken tfvars: %d %s", code, errOut)
	}
}

// patience bounds a wait for the wizard's next frame: long enough that a
// busy two-core machine never trips it, so only a hang fails the test.
const patience = 2 * time.Minute
