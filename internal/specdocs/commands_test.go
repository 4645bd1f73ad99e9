package specdocs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tlssecret/tlstest"
)

// driven records which exit code each command was driven into.
type driven struct {
	t    *testing.T
	seen map[string]map[int]string // command -> code -> what did it
}

func (d *driven) key(cmd string) string {
	if cmd == "" {
		return "migrate-tui"
	}
	return cmd
}

// expect runs args on c, wants exit code want, and records it for command.
func (d *driven) expect(c *cli, command string, want int, what string, args ...string) (string, string) {
	d.t.Helper()
	out, errOut, code := c.run(args...)
	if code != want {
		d.t.Errorf("%s: migrate-tui %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", what, strings.Join(args, " "), code, want, clip(out), clip(errOut))
	}
	k := d.key(command)
	if d.seen[k] == nil {
		d.seen[k] = map[int]string{}
	}
	d.seen[k][code] = what
	return out, errOut
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "\n[...]"
	}
	return s
}

func mustValid(t *testing.T, schemas map[string]*jsonschema.Schema, name, what string, data []byte) {
	t.Helper()
	s, ok := schemas[name]
	if !ok {
		t.Fatalf("no contracts/%s", name)
	}
	if err := Validate(s, data); err != nil {
		t.Errorf("%s does not match contracts/%s: %v\n%s", what, name, err, clip(string(data)))
	}
}

func readState(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(state.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// whoamiOnKubernetes creates the Kubernetes copy of whoami in the PoC
// namespace (what the services stage deploys, minus what KWOK cannot run)
// and waits until it is Ready behind its Service.
func whoamiOnKubernetes(t *testing.T, ns string) {
	t.Helper()
	w := needWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := w.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	labels := map[string]string{"app.kubernetes.io/name": "whoami"}
	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "whoami", Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers:  []corev1.Container{{Name: "whoami", Image: "traefik/whoami:v1.11.0", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}},
				Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			}}}}
	if _, err := w.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "whoami", Labels: labels},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := w.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		d, err := w.Client.AppsV1().Deployments(ns).Get(ctx, "whoami", metav1.GetOptions{})
		if err != nil || d.Status.ReadyReplicas != 1 {
			return false, nil
		}
		eps, err := w.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=whoami"})
		return err == nil && len(eps.Items) > 0 && len(eps.Items[0].Endpoints) > 0, nil
	})
	if err != nil {
		t.Fatalf("whoami in %s never became Ready: %v", ns, err)
	}
}

// cutoverPhase is the outcome's phase (the Nomad job) and state (the machine).
func cutoverPhase(t *testing.T, out string) (string, string) {
	t.Helper()
	var r struct {
		Outcome struct {
			Phase string `json:"phase"`
			State string `json:"state"`
		} `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("cutover --json: %v\n%s", err, out)
	}
	return r.Outcome.Phase, r.Outcome.State
}

// TestCommandsAgainstTheTestWorld runs the real commands the way an
// operator on the sandbox would (the test world as the cluster, the Nomad
// simulator as Nomad), validates every JSON document they print and the
// state file they write against contracts/*.schema.json, drives each
// command into the exit codes contracts/exit-codes.md lists, and checks
// the table against the runs and against each command's --help.
func TestCommandsAgainstTheTestWorld(t *testing.T) {
	repo := repoRoot(t)
	schemas, err := Schemas(repo)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Read(repo, "contracts/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	table, err := ExitCodes(doc)
	if err != nil {
		t.Fatal(err)
	}
	b := needBinary(t)
	w := needWorld(t)
	sim := nomadsim.New(nomadsim.Options{Token: "specdocs-nomad-token"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	d := &driven{t: t, seen: map[string]map[int]string{}}
	c := &cli{t: t, bin: b, dir: copyRepo(t), env: toolEnv(t, map[string]string{
		"NOMAD_ADDR":  sim.URL(),
		"NOMAD_TOKEN": sim.Token(),
	})}

	// preflight, decide, adopt the world: the state has preflight, decisions, a stage.
	d.expect(c, "preflight", 0, "preflight against the Nomad simulator", "preflight", "--json")
	d.expect(c, "decide", 0, "decide --defaults", "decide", "--defaults")
	d.expect(c, "apply", 0, "adopt the test world as the cluster", "apply", "--stage", "cluster", "--kubeconfig", w.Kubeconfig, "--json")
	mustValid(t, schemas, "state.schema.json", "the state after preflight, decide and the cluster stage", readState(t, c.dir))

	out, _ := d.expect(c, "status", 0, "status --json", "status", "--json")
	mustValid(t, schemas, "status.schema.json", "status --json", []byte(out))

	// Every check runs; in this world several fail (no PoC services), so 1.
	out, _ = d.expect(c, "check", 1, "check --json with checks failing", "check", "--json", "--timeout", "90s")
	mustValid(t, schemas, "check.schema.json", "check --json", []byte(out))
	var rep struct {
		Checks []struct{ ID string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var gotIDs, wantIDs []string
	for _, ch := range rep.Checks {
		gotIDs = append(gotIDs, ch.ID)
	}
	for _, ch := range checks.All() {
		wantIDs = append(wantIDs, ch.ID)
	}
	sort.Strings(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("check --json reported %v, want every check of internal/checks %v", gotIDs, wantIDs)
	}
	out, _ = d.expect(c, "check", 0, "check --only SC-007 after --assess yes", "check", "--assess", "yes", "--only", "SC-007", "--json")
	mustValid(t, schemas, "check.schema.json", "check --only SC-007 --json", []byte(out))
	d.expect(c, "check", 2, "check --only with an unknown ID", "check", "--only", "SC-999")
	// Criteria fail here (no PoC services): NO-GO proposed, the draft written.
	out, _ = d.expect(c, "evaluate", 1, "evaluate --json in a world without the PoC services", "evaluate", "--json", "--timeout", "90s")
	if !strings.Contains(out, `"verdict": "NO-GO"`) || !strings.Contains(out, `"state": "draft"`) {
		t.Errorf("evaluate --json: want a NO-GO proposal and a draft record:\n%s", clip(out))
	}
	mustValid(t, schemas, "evaluate.schema.json", "evaluate --json (NO-GO)", []byte(out))
	// This world serves no VPA type: rightsize says so and what to apply.
	_, errOut := d.expect(c, "rightsize", 1, "rightsize --json in a world without the VPA CRDs", "rightsize", "--json")
	if !strings.Contains(errOut, "apply --stage vpa") {
		t.Errorf("rightsize without the VPA type: the message names no next step:\n%s", errOut)
	}

	// Cutover: echo has no Kubernetes copy (blocked), whoami does.
	whoamiOnKubernetes(t, "poc")
	out, _ = d.expect(c, "cutover", 3, "cutover of echo, which has no Kubernetes copy", "cutover", "--service", "echo", "--yes", "--accept-unobserved", "--json")
	mustValid(t, schemas, "cutover.schema.json", "cutover --json (blocked)", []byte(out))
	gateIDs(t, out)
	out, _ = d.expect(c, "cutover", 1, "cutover --check of echo, scaffolded with no Kubernetes objects", "cutover", "echo", "--check", "--json")
	mustValid(t, schemas, "cutover-check.schema.json", "cutover --check --json", []byte(out))
	if !strings.Contains(out, `"next_state": "deployed"`) || !strings.Contains(out, `"id": "kubernetes-objects"`) {
		t.Errorf("cutover echo --check: want the deployed transition blocked by kubernetes-objects:\n%s", out)
	}
	out, _ = d.expect(c, "cutover", 8, "cutover of whoami without --routing-done", "cutover", "--service", "whoami", "--yes", "--accept-unobserved", "--json")
	mustValid(t, schemas, "cutover.schema.json", "cutover --json (routing not confirmed)", []byte(out))
	gateIDs(t, out)
	if p, s := cutoverPhase(t, out); p != state.CutoverOnNomad || s != state.StateVerified {
		t.Errorf("waiting at the traffic switch, whoami is phase %q state %q, want %s and %s (the job still runs)", p, s, state.CutoverOnNomad, state.StateVerified)
	}
	out, _ = d.expect(c, "cutover", 0, "cutover of whoami, routing confirmed", "cutover", "--service", "whoami", "--yes", "--accept-unobserved", "--routing-done", "--json")
	mustValid(t, schemas, "cutover.schema.json", "cutover --routing-done --json", []byte(out))
	if p, s := cutoverPhase(t, out); p != state.CutoverOnKubernetes || s != state.StateDone {
		t.Errorf("after the cutover, whoami is phase %q state %q, want %s and %s", p, s, state.CutoverOnKubernetes, state.StateDone)
	}
	out, _ = d.expect(c, "cutover", 0, "cutover --check of whoami at done", "cutover", "whoami", "--check", "--json")
	mustValid(t, schemas, "cutover-check.schema.json", "cutover --check --json at done", []byte(out))
	out, _ = d.expect(c, "cutover", 0, "cutover --list", "cutover", "--list", "--json")
	mustValid(t, schemas, "cutover-list.schema.json", "cutover --list --json", []byte(out))
	if !strings.Contains(out, `"phase": "on-kubernetes"`) || !strings.Contains(out, `"state": "done"`) {
		t.Errorf("cutover --list does not show whoami done on Kubernetes:\n%s", out)
	}
	// Every Nomad job, not only the PoC's.
	for _, id := range nomadsim.HomelabJobIDs() {
		if !strings.Contains(out, `"nomad_job": "`+id+`"`) {
			t.Errorf("cutover --list does not list Nomad job %s:\n%s", id, out)
		}
	}
	st := readState(t, c.dir)
	mustValid(t, schemas, "state.schema.json", "the state with a cutover", st)
	if !strings.Contains(string(st), `"job_spec"`) {
		t.Error("the state after a cutover holds no job_spec; the schema check above proved nothing about cutovers")
	}
	out, _ = d.expect(c, "cutover", 0, "rollback of whoami", "cutover", "--rollback", "--service", "whoami", "--yes", "--json")
	mustValid(t, schemas, "cutover.schema.json", "cutover --rollback --json", []byte(out))
	if p, s := cutoverPhase(t, out); p != state.CutoverOnNomad || s != state.StateOnNomadOnly {
		t.Errorf("after the rollback, whoami is phase %q state %q, want %s and %s", p, s, state.CutoverOnNomad, state.StateOnNomadOnly)
	}
	// One transition at a time (--step): each run moves whoami one state on
	// and records it, so the next run starts there.
	for _, step := range []struct {
		want  string
		flags []string
	}{
		{state.StateScaffolded, nil},
		{state.StateDeployed, nil},
		{state.StateVerified, []string{"--accept-unobserved"}},
		{state.StateTrafficSwitched, []string{"--accept-unobserved", "--routing-done"}},
		{state.StateNomadStopped, []string{"--accept-unobserved", "--yes"}},
		{state.StateDone, nil},
	} {
		args := append([]string{"cutover", "whoami", "--step", "--json"}, step.flags...)
		out, _ = d.expect(c, "cutover", 0, "cutover --step of whoami to "+step.want, args...)
		mustValid(t, schemas, "cutover.schema.json", "cutover --step --json", []byte(out))
		if _, s := cutoverPhase(t, out); s != step.want {
			t.Errorf("cutover whoami --step: state %q, want %s", s, step.want)
		}
	}
	out, _ = d.expect(c, "cutover", 0, "rollback of whoami from done, stepped", "cutover", "whoami", "--rollback", "--yes", "--json")
	if p, s := cutoverPhase(t, out); p != state.CutoverOnNomad || s != state.StateOnNomadOnly {
		t.Errorf("after the second rollback, whoami is phase %q state %q", p, s)
	}

	// The ingress stage refuses to plan without the wildcard TLS Secret.
	d.expect(c, "apply", 3, "apply --stage ingress without the TLS Secret", "apply", "--stage", "ingress", "--yes", "--json")

	// tls-secret.
	pair := tlstest.Valid(t, "brmartin.co.uk")
	cert, key := pair.Files(t, t.TempDir())
	d.expect(c, "tls-secret", 0, "tls-secret with a valid wildcard", "tls-secret", "--cert", cert, "--key", key)
	other := tlstest.Valid(t, "example.org")
	ocert, okey := other.Files(t, t.TempDir())
	d.expect(c, "tls-secret", 1, "tls-secret with a certificate for another domain", "tls-secret", "--cert", ocert, "--key", okey)
	d.expect(c, "tls-secret", 2, "tls-secret without a certificate", "tls-secret")

	// Another migrate-tui holds the repository's lock.
	lock, err := state.Acquire(c.dir, "specdocs test")
	if err != nil {
		t.Fatal(err)
	}
	d.expect(c, "preflight", 4, "preflight while the lock is held", "preflight", "--json")
	d.expect(c, "apply", 4, "apply while the lock is held", "apply", "--stage", "storage", "--yes", "--json")
	d.expect(c, "cutover", 4, "cutover while the lock is held", "cutover", "--service", "whoami", "--json")
	d.expect(c, "decide", 4, "decide while the lock is held", "decide", "--defaults")
	d.expect(c, "", 4, "the wizard while the lock is held", "--accessible")
	lock.Release()

	// An adopted cluster whose API does not answer.
	dead := filepath.Join(t.TempDir(), "dead.yaml")
	if err := os.WriteFile(dead, []byte(deadKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	d.expect(c, "apply", 6, "adopting a cluster whose API does not answer", "apply", "--stage", "cluster", "--kubeconfig", dead, "--json")

	// A Nomad allocation of another job fails.
	if err := sim.FailAllocation("echo"); err != nil {
		t.Fatal(err)
	}
	out, _ = d.expect(c, "cutover", 7, "cutover of whoami while echo has regressed", "cutover", "--service", "whoami", "--yes", "--accept-unobserved", "--routing-done", "--json")
	mustValid(t, schemas, "cutover.schema.json", "cutover --json (regressions)", []byte(out))
	d.expect(c, "cutover", 0, "rollback of whoami after the regression", "cutover", "--rollback", "--service", "whoami", "--yes", "--json")
	d.expect(c, "apply", 7, "apply while echo has regressed", "apply", "--stage", "storage", "--yes", "--json")
	mustValid(t, schemas, "state.schema.json", "the state at the end of the run", readState(t, c.dir))

	usageAndFreshRepo(t, d, b)
	checkTable(t, d, table, b)
}

// gateIDs checks every readiness-gate check the command reported is a
// row of data-model.md's gate table.
func gateIDs(t *testing.T, out string) {
	t.Helper()
	var r struct {
		Outcome struct {
			Gate *struct {
				Checks []struct{ ID string } `json:"checks"`
			} `json:"gate"`
		} `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Outcome.Gate == nil {
		t.Errorf("cutover --json has no gate: %v\n%s", err, out)
		return
	}
	doc, err := Read(repoRoot(t), "data-model.md")
	if err != nil {
		t.Fatal(err)
	}
	_, gate, _ := strings.Cut(doc, "| gate check | blocks when |")
	rows := tableKeys(gate[:strings.Index(gate, "\n\n")])
	for _, c := range r.Outcome.Gate.Checks {
		if !rows[c.ID] {
			t.Errorf("cutover reported gate check %s, which data-model.md's gate table does not list", c.ID)
		}
	}
}

// deadKubeconfig names an API server on a port nothing listens on.
const deadKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: dead
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: dead
  user:
    token: not-a-secret
contexts:
- name: dead
  context: {cluster: dead, user: dead}
current-context: dead
`

// usageAndFreshRepo drives the usage errors and the failures that need no
// cluster, in repositories of their own.
func usageAndFreshRepo(t *testing.T, d *driven, b string) {
	t.Helper()
	fresh := t.TempDir()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fresh, "variables.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t, bin: b, dir: fresh, env: toolEnv(t, map[string]string{"NOMAD_ADDR": "http://127.0.0.1:1", "NOMAD_TOKEN": "x"})}
	d.expect(c, "preflight", 1, "preflight with Nomad unreachable", "preflight", "--json")
	d.expect(c, "preflight", 2, "preflight with an unknown flag", "preflight", "--bogus")
	d.expect(&cli{t: t, bin: b, dir: filepath.Join(fresh, "no-such-dir"), env: c.env}, "preflight", 2, "preflight in a directory that does not exist", "preflight")
	d.expect(c, "status", 0, "status of a repository", "status", "--json")
	d.expect(c, "status", 2, "status with an unknown flag", "status", "--bogus")
	d.expect(c, "decide", 2, "decide with an unknown key", "decide", "--set", "no_such_key=1")
	d.expect(c, "decide", 2, "decide with an unknown flag", "decide", "--bogus")
	d.expect(c, "apply", 2, "apply without --stage", "apply")
	d.expect(&cli{t: t, bin: b, dir: filepath.Join(fresh, "no-such-dir"), env: c.env}, "cutover", 2, "cutover in a directory that does not exist", "cutover", "--service", "whoami")
	if _, err := os.Stat(filepath.Join(fresh, "no-such-dir")); err == nil {
		t.Error("cutover created the --dir that did not exist")
	}
	d.expect(c, "check", 2, "check without a kubeconfig", "check")
	d.expect(c, "cutover", 2, "cutover without --service", "cutover")
	d.expect(c, "tls-secret", 2, "tls-secret with an unknown flag", "tls-secret", "--bogus")
	d.expect(c, "", 2, "an unknown subcommand", "no-such-command")
	d.expect(c, "scaffold", 2, "scaffold without a job", "scaffold")
	d.expect(c, "rightsize", 2, "rightsize with an unknown flag", "rightsize", "--bogus")
	d.expect(c, "evaluate", 2, "evaluate with an unknown flag", "evaluate", "--bogus")
	d.expect(c, "scaffold", 2, "scaffold with an unknown flag", "scaffold", "echo", "--bogus")
	d.expect(c, "", 2, "the wizard without a terminal")
	sd := t.TempDir()
	d.expect(&cli{t: t, bin: b, env: c.env}, "sandbox", 1, "sandbox env when no sandbox runs", "sandbox", "env", "--state-dir", sd)
	d.expect(&cli{t: t, bin: b, env: c.env}, "sandbox", 0, "sandbox down when no sandbox runs", "sandbox", "down", "--state-dir", sd)
	d.expect(&cli{t: t, bin: b, env: c.env}, "sandbox", 2, "sandbox env with an unknown flag", "sandbox", "env", "--bogus")

	if err := os.MkdirAll(filepath.Join(fresh, state.DirName), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state.Path(fresh), []byte(`{"schema": 1, "steps": {"preflight.tools": {"status": "maybe"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d.expect(c, "status", 1, "status with a corrupt state file", "status")
	d.expect(c, "decide", 1, "decide with a corrupt state file", "decide", "--defaults")
	d.expect(c, "apply", 1, "apply with a corrupt state file", "apply", "--stage", "storage", "--yes", "--json")
	d.expect(c, "cutover", 1, "cutover --list with a corrupt state file", "cutover", "--list")
	d.expect(c, "", 1, "the wizard with a corrupt state file", "--accessible")
}

// checkTable compares contracts/exit-codes.md with what the commands did
// and with what each command's --help says.
func checkTable(t *testing.T, d *driven, table []ExitCode, b string) {
	t.Helper()
	rows := map[string]map[int]ExitCode{}
	for _, r := range table {
		if rows[r.Command] == nil {
			rows[r.Command] = map[int]ExitCode{}
		}
		rows[r.Command][r.Code] = r
	}
	for cmd, codes := range d.seen {
		for code, what := range codes {
			if _, ok := rows[cmd][code]; !ok {
				t.Errorf("exit-codes.md has no row for %s exiting %d (%s)", cmd, code, what)
			}
		}
	}
	for _, r := range table {
		_, ran := d.seen[r.Command][r.Code]
		switch {
		case r.NotDriven() && ran:
			t.Errorf("exit-codes.md says %s %d is not driven, but the test drove it (%s): say how", r.Command, r.Code, d.seen[r.Command][r.Code])
		case !r.NotDriven() && !ran:
			t.Errorf("exit-codes.md says the test drives %s into %d (%s), but it did not", r.Command, r.Code, r.Driven)
		}
	}
	c := &cli{t: t, bin: b, env: environ(nil)}
	for cmd, codes := range rows {
		args := []string{cmd, "--help"}
		if cmd == "migrate-tui" {
			args = []string{"--help"}
		}
		help, errOut, code := c.run(args...)
		if code != 0 {
			t.Errorf("migrate-tui %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
			continue
		}
		var want []int
		for n, r := range codes {
			if r.InHelp {
				want = append(want, n)
			}
		}
		got := HelpCodes(help)
		sort.Ints(want)
		sort.Ints(got)
		if !slices.Equal(got, want) {
			t.Errorf("migrate-tui %s --help names exit codes %v; exit-codes.md marks %v as said in --help", cmd, got, want)
		}
	}
	// Every command of the root's help has rows.
	help, _, _ := c.run("--help")
	_, list, _ := strings.Cut(help, "Available Commands:")
	list, _, _ = strings.Cut(list, "\n\n")
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		name := strings.Fields(line)[0]
		if name == "help" || name == "completion" {
			continue
		}
		if rows[name] == nil {
			t.Errorf("exit-codes.md has no rows for the command %s", name)
		}
	}
	if t.Failed() {
		var b strings.Builder
		for cmd, codes := range d.seen {
			for code, what := range codes {
				fmt.Fprintf(&b, "  %s %d: %s\n", cmd, code, what)
			}
		}
		t.Logf("exit codes seen:\n%s", b.String())
	}
}
