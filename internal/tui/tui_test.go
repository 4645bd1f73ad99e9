package tui

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/preflight"
	"migrate-tui/internal/state"
)

// -update is registered by teatest's golden package.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func TestMain(m *testing.M) {
	// Stable goldens: no colour, whatever the terminal.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

const simToken = "tui-test-token"

var fixedNow = time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC)

func testOptions(t *testing.T) Options {
	t.Helper()
	sim := nomadsim.New(nomadsim.Options{Token: simToken, Now: func() time.Time { return fixedNow }})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return Options{
		RepoDir: t.TempDir(),
		Now:     func() time.Time { return fixedNow },
		Preflight: preflight.Env{
			LookPath: func(name string) (string, error) { return "/usr/bin/" + name, nil },
			Connect: func() (preflight.Nomad, error) {
				c, err := nomadwatch.NewClient(sim.URL(), simToken)
				if err != nil {
					return nil, err
				}
				return c, nil
			},
		},
	}
}

func goldenView(t *testing.T, name, view string) {
	t.Helper()
	got := []byte(ansi.Strip(view))
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
	for i, line := range strings.Split(string(got), "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("%s line %d is %d columns wide", name, i+1, w)
		}
	}
	if n := strings.Count(string(got), "\n") + 1; n > 24 {
		t.Errorf("%s is %d lines high", name, n)
	}
}

func newTM(t *testing.T, o Options) *teatest.TestModel {
	st, err := state.Load(o.RepoDir)
	if err != nil {
		t.Fatal(err)
	}
	return teatest.NewTestModel(t, New(o, st), teatest.WithInitialTermSize(80, 24))
}

func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func finalView(t *testing.T, tm *teatest.TestModel) string {
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	return tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).View()
}

var _ = io.Discard

func TestFirstRun(t *testing.T) {
	o := testOptions(t)
	tm := newTM(t, o)
	waitFor(t, tm, "No migration started yet")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor(t, tm, "Decision: Control-plane topology")
	goldenView(t, "first-run", finalView(t, tm))
}

// press sends n enters.
func press(tm *teatest.TestModel, keys ...tea.KeyType) {
	for _, k := range keys {
		tm.Send(tea.KeyMsg{Type: k})
	}
}

func enters(n int) []tea.KeyType {
	out := make([]tea.KeyType, n)
	for i := range out {
		out[i] = tea.KeyEnter
	}
	return out
}

// A decision: choose 1-server-2-agents; the wizard records it, derives the
// node roles, writes terraform.tfvars and moves on to Storage.
func TestDecision(t *testing.T) {
	o := testOptions(t)
	tm := newTM(t, o)
	waitFor(t, tm, "No migration started yet")
	press(tm, tea.KeyEnter)
	waitFor(t, tm, "Decision: Control-plane topology")
	press(tm, tea.KeyDown)
	waitFor(t, tm, "Much lighter on the arm64")
	press(tm, tea.KeyEnter)
	waitFor(t, tm, "Decision: Storage")
	goldenView(t, "decision", finalView(t, tm))
	st, err := state.Load(o.RepoDir)
	if err != nil {
		t.Fatal(err)
	}
	ans, _ := st.Answers()
	if ans.Str("control_plane_topology") != "1-server-2-agents" {
		t.Fatalf("answers = %v", ans)
	}
	// Hestia has the most free memory in the simulator: it is the server.
	if n := ans.Nodes(); len(n) != 3 || n[0].Name != "hestia" || n[0].Role != "server" || n[1].Role != "agent" {
		t.Fatalf("nodes = %+v", n)
	}
	tfv, err := os.ReadFile(filepath.Join(o.RepoDir, "terraform.tfvars"))
	if err != nil || !strings.Contains(string(tfv), `control_plane_topology = "1-server-2-agents"`) {
		t.Fatalf("terraform.tfvars = %s, %v", tfv, err)
	}
}

// Resume: a second run shows where the migration stands, offers the first
// unfinished step, shows decisions made without asking them again, and says
// what revisiting one invalidates.
func TestResume(t *testing.T) {
	o := testOptions(t)
	tm := newTM(t, o)
	waitFor(t, tm, "No migration started yet")
	press(tm, tea.KeyEnter)
	waitFor(t, tm, "Decision: Control-plane topology")
	press(tm, tea.KeyEnter)
	waitFor(t, tm, "Decision: Storage")
	finalView(t, tm) // quit in the middle of the decisions

	// Pretend the cluster stage ran, to see what revisiting invalidates.
	st, err := state.Load(o.RepoDir)
	if err != nil {
		t.Fatal(err)
	}
	st.Finish("stage.cluster", "done", []string{"K3s v1.34.3+k3s1 on 3 nodes"}, "", fixedNow)
	if err := state.Save(o.RepoDir, st, fixedNow); err != nil {
		t.Fatal(err)
	}

	tm = newTM(t, o)
	waitFor(t, tm, "Continue from")
	app := New(o, st)
	goldenView(t, "resume", app.View())

	press(tm, tea.KeyUp, tea.KeyEnter) // open the topology decision
	waitFor(t, tm, "Decided (shown, not asked again)")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("r")})
	waitFor(t, tm, "Revisiting may invalidate")
	goldenView(t, "revisit", finalView(t, tm))
}

// --accessible: line prompts; empty lines accept what is shown, a number
// picks an option.
func TestAccessible(t *testing.T) {
	o := testOptions(t)
	var input strings.Builder
	input.WriteString("2\n") // topology: 1-server-2-agents
	for i := 0; i < 60; i++ {
		input.WriteString("\n")
	}
	var out bytes.Buffer
	if err := RunAccessible(o, strings.NewReader(input.String()), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := ansi.Strip(out.String())
	for _, want := range []string{"✓ Nomad baseline passed", "1-server-2-agents", "✓ Control-plane topology decided", "✓ PoC services decided", "Not available in the wizard yet"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	st, err := state.Load(o.RepoDir)
	if err != nil {
		t.Fatal(err)
	}
	ans, _ := st.Answers()
	if ans.Str("control_plane_topology") != "1-server-2-agents" || ans.Str("service_mesh") != "cilium" || ans.Str("cilium_ipam_mode") != "kubernetes" {
		t.Fatalf("answers = %v", ans)
	}
	// A second run shows the decisions, asks nothing and stops at the stages.
	out.Reset()
	if err := RunAccessible(o, strings.NewReader(""), &out); err != nil {
		t.Fatal(err)
	}
	if text := ansi.Strip(out.String()); !strings.Contains(text, "✓ Mesh and mTLS: decided (service_mesh = cilium, cilium_ipam_mode = kubernetes)") || strings.Contains(text, "Choose") {
		t.Fatalf("second run:\n%s", text)
	}
}

func TestNoColor(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
	if !strings.Contains(NewStyles().OK.Render("x"), "\x1b[") {
		t.Skip("this lipgloss build does not colour at TrueColor; nothing to prove")
	}
	t.Setenv("NO_COLOR", "1")
	RespectNoColor()
	if got := NewStyles().OK.Render("ok"); strings.Contains(got, "\x1b[3") {
		t.Fatalf("NO_COLOR set, but %q carries a colour", got)
	}
}

type doneMsg struct{}

type innerScreen struct{ seen []string }

func (m *innerScreen) Init() tea.Cmd { return nil }
func (m *innerScreen) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		m.seen = append(m.seen, k.String())
	}
	return m, nil
}
func (m *innerScreen) View() string { return "inner: " + strings.Join(m.seen, ",") }

// A factory's screen built by a command: errors are shown with a retry,
// keys reach the built screen, its done message becomes StepDoneMsg.
func TestDeferredScreen(t *testing.T) {
	c := newCommon(Options{RepoDir: t.TempDir()})
	step := *c.Plan.Get("stage.storage")
	fail := true
	build := func(*Common) (tea.Model, error) {
		if fail {
			return nil, errors.New("tofu not found on PATH")
		}
		return &innerScreen{}, nil
	}
	m := Deferred(c, step, build, func(msg tea.Msg) bool { _, ok := msg.(doneMsg); return ok })
	m, _ = m.Update(m.Init()())
	if v := ansi.Strip(m.View()); !strings.Contains(v, "tofu not found on PATH") || !strings.Contains(v, "Press r") {
		t.Fatalf("view after a failed build:\n%s", v)
	}
	fail = false
	m, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("r")})
	m, _ = m.Update(cmd())
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("y")})
	if v := m.View(); v != "inner: y" {
		t.Fatalf("view = %q", v)
	}
	_, cmd = m.Update(doneMsg{})
	if got, ok := cmd().(StepDoneMsg); !ok || got.StepID != "stage.storage" {
		t.Fatalf("done became %#v", got)
	}
}

// A refused answer is explained on the screen, which asks again with the
// answers given; nothing is recorded.
func TestRefusalAskedAgain(t *testing.T) {
	o := testOptions(t)
	tm := newTM(t, o)
	waitFor(t, tm, "No migration started yet")
	press(tm, tea.KeyEnter)
	for _, sc := range decisions.Screens[:3] {
		waitFor(t, tm, "Decision: "+sc.Title)
		press(tm, enters(len(decide.Asked(sc.ID, decisions.Defaults())))...)
	}
	waitFor(t, tm, "Decision: Ingress")
	press(tm, tea.KeyDown)
	waitFor(t, tm, "ServiceLB")
	// bundled-traefik, then every question it leaves on the screen.
	press(tm, enters(len(decide.Asked("ingress", decisions.Effective(decisions.Answers{"ingress_mode": "bundled-traefik"}))))...)
	waitFor(t, tm, "Choose instead")
	goldenView(t, "refusal", finalView(t, tm))
	st, _ := state.Load(o.RepoDir)
	if _, ok := st.Decisions["ingress_mode"]; ok {
		t.Fatal("a refused ingress_mode was recorded")
	}
}

// Values already in terraform.tfvars seed the forms for keys not decided.
func TestExistingTfvarsSeedForms(t *testing.T) {
	o := testOptions(t)
	o.Existing = decisions.Answers{"service_mesh": "istio-ambient"}
	fv, _ := startValues("mesh", state.New(fixedNow), o.Existing)
	if got := *fv.text["service_mesh"]; got != "istio-ambient" {
		t.Fatalf("service_mesh starts at %q", got)
	}
	st := state.New(fixedNow)
	st.SetDecision("service_mesh", "none", "wizard", fixedNow)
	if fv, _ := startValues("mesh", st, o.Existing); *fv.text["service_mesh"] != "none" {
		t.Fatal("a decided value did not win over terraform.tfvars")
	}
}
