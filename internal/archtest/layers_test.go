package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "migrate-tui/"

// layers orders the product packages from the bottom up: a package may
// import only packages of a lower layer, never one beside it or above it.
// A package that is not listed fails the test, so a new one takes its
// place on purpose.
var layers = [][]string{
	// Leaves: vocabulary, files, formats.
	{"migrate-tui", "k8s/cluster", "internal/status", "internal/faultpoint", "internal/manifest", "internal/litestream",
		"internal/objstore", "internal/tftree", "internal/bgcolor", "internal/unrunchart"},
	// Records: what is decided and what was seen, as plain data.
	{"internal/atomicfile", "internal/decisions", "internal/nomadrecord", "internal/k3sconfig"},
	{"internal/tfvars", "internal/steps", "internal/decisions/gen"},
	{"internal/kubeconfigpath"},
	// The repository's own files: state, answers, generated code.
	{"internal/state", "internal/decisions/tfanswers", "internal/scaffold", "internal/sshinstall"},
	// Clients of live systems (Nomad, Terraform, Vault) and the decisions flow.
	{"internal/nomadwatch", "internal/tfrunner", "internal/vaultsetup", "internal/decisions/decide", "internal/specdocs",
		"internal/traefikroute"},
	// One way to reach the cluster, Nomad and Vault; the preflight.
	{"internal/connect", "internal/preflight"},
	// Flows over the cluster, Nomad and Vault.
	{"internal/checks", "internal/tlssecret"},
	{"internal/cutover", "internal/checks/checksui", "internal/rightsize"},
	{"internal/cutover/cutoverui", "internal/evaluate"},
	{"internal/evaluate/evaluateui"},
	{"internal/stages"},
	{"internal/stages/stageui"},
	// The wizard's router and the sandbox, then the commands.
	{"internal/tui", "internal/sandbox"},
	{"cmd/migrate-tui"},
}

// testInfra are the test world and its helpers: no product package imports
// them except the sandbox, which runs the test world for a person.
var testInfra = []string{"internal/testworld", "internal/testworld/cnitest", "internal/testworld/dnstest",
	"internal/testtools", "internal/testtools/clitest", "internal/nomadsim", "internal/vaultsim",
	"internal/consuldns", "internal/helmrender", "internal/faultharness", "internal/e2e", "internal/hostile",
	"internal/tfcode", "internal/tfrunner/tftest", "internal/tlssecret/tlstest", "internal/archtest",
	"internal/testtools/nomadjob", "internal/traefikroute/traefiktest"}

// sidewaysKnown are edges between flows that are still to be removed, each
// with what removes it. Anything else sideways or upward fails.
var sidewaysKnown = map[[2]string]string{
	// stages reads the Nomad overseerr job's Litestream buckets with
	// cutover.NomadBuckets; it moves beside internal/litestream once the
	// cutover rewrite (in flight) has landed.
	{"internal/stages", "internal/cutover"}: "cutover.NomadBuckets",
}

// noNomadAPI may not depend on Nomad's API client, even indirectly: they
// read and write the repository's files (tls-secret must work with Nomad
// switched off).
var noNomadAPI = []string{"internal/state", "internal/decisions/decide", "internal/tlssecret", "internal/sshinstall",
	"internal/decisions/tfanswers"}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "migrate-tui/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -json migrate-tui/...: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -json migrate-tui/...: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages in the module; expected the whole module", len(pkgs))
	}
	return pkgs
}

func layerOf() map[string]int {
	m := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			m[p] = i
		}
	}
	return m
}

func TestImportsPointDown(t *testing.T) {
	pkgs := listPackages(t)
	rank := layerOf()
	for name, p := range pkgs {
		_, ranked := rank[name]
		if !ranked && !slices.Contains(testInfra, name) {
			t.Errorf("%s has no layer: add it to layers (or testInfra) in %s", name, "internal/archtest/layers_test.go")
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, module)
			if imp == "migrate-tui" {
				dep, ok = imp, true
			}
			if !ok {
				continue
			}
			if err := edgeAllowed(name, dep, rank); err != "" {
				t.Errorf("%s imports %s: %s", name, dep, err)
			}
		}
	}
}

// edgeAllowed says why from → to is refused ("" when it is allowed).
func edgeAllowed(from, to string, rank map[string]int) string {
	rf, fromRanked := rank[from]
	rt, toRanked := rank[to]
	switch {
	case !fromRanked:
		return "" // test infrastructure may use anything
	case !toRanked:
		if from == "internal/sandbox" {
			return ""
		}
		return "a product package imports test infrastructure; only internal/sandbox may"
	case rt < rf:
		return ""
	case sidewaysKnown[[2]string{from, to}] != "":
		return ""
	case rt == rf:
		return "a sideways import (same layer); move what is shared one layer down"
	default:
		return "an upward import; move what is shared below both"
	}
}

// TestEdgeRule pins the rule itself, so a table edit cannot make
// TestImportsPointDown pass vacuously.
func TestEdgeRule(t *testing.T) {
	rank := layerOf()
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"internal/state", "internal/nomadrecord", true},
		{"internal/state", "internal/nomadwatch", false},
		{"internal/decisions/decide", "internal/preflight", false},
		{"internal/checks", "internal/tlssecret", false},
		{"internal/stages", "internal/cutover", true}, // known, listed in sidewaysKnown
		{"internal/tui", "internal/stages/stageui", true},
		{"internal/stages", "internal/testworld", false},
		{"internal/sandbox", "internal/testworld", true},
	} {
		if got := edgeAllowed(tc.from, tc.to, rank) == ""; got != tc.ok {
			t.Errorf("%s → %s allowed = %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
}

// TestNoNomadAPIBelowFlows: the Nomad API is reached only through
// internal/nomadwatch, and the packages that read the repository's files
// never link it.
func TestNoNomadAPIBelowFlows(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range noNomadAPI {
		p, ok := pkgs[name]
		if !ok {
			t.Errorf("%s is not in the module any more: update noNomadAPI", name)
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/hashicorp/nomad/") {
				t.Errorf("%s depends on %s (through %s); it must not need Nomad's API", name, d, via(pkgs, name, d))
				break
			}
		}
	}
}

// via names the module package that brings dep into name's build.
func via(pkgs map[string]pkg, name, dep string) string {
	for _, imp := range pkgs[name].Imports {
		q, ok := strings.CutPrefix(imp, module)
		if !ok {
			if imp == dep {
				return "a direct import"
			}
			continue
		}
		if q2, ok := pkgs[q]; ok && slices.Contains(q2.Deps, dep) || imp == dep {
			return q
		}
	}
	return "?"
}
