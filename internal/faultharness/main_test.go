// Package faultharness kills the real migrate-tui binary at each named
// fault point (internal/faultpoint) and proves a rerun of the same command
// recovers: it finishes, state.json and terraform.tfvars parse, no lock
// blocks, every Nomad job runs or was stopped on purpose with its spec
// saved, and no secret is in any file migrate-tui wrote.
//
// One test world (KWOK nodes, the CRDs), one Nomad simulator and one Vault
// simulator serve every point. The points form one chain that carries a
// migration forward (preflight, decide, the cluster, the stages, tls-secret,
// cutovers and rollbacks): the world keeps what each step applied, so each
// step starts from a copy of the previous step's repository (its own temp
// dir) and never applies anything the world already has.
package faultharness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/vaultsim"
)

const (
	nomadToken = "faultharness-nomad-token-5d1c"
	vaultToken = "faultharness-vault-token-9e47"
)

var (
	bin      string
	tofuDir  string
	repoRoot string
	cliRC    string
	plugins  string
	world    *testworld.World
	nomad    *nomadsim.Server
	vault    *vaultsim.Server
	// runningAtStart are the Nomad jobs running before any step ("ns/id").
	runningAtStart = map[string]bool{}
)

func TestMain(m *testing.M) { os.Exit(setup(m)) }

func setup(m *testing.M) int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "faultharness: %s: %v\n", what, err)
		return 1
	}
	root, err := testtools.RepoRoot()
	if err != nil {
		return fail("repository root", err)
	}
	repoRoot = root
	tofu, err := testtools.Bin("tofu")
	if err != nil {
		return fail("the fault harness needs OpenTofu", err)
	}
	tofuDir = filepath.Dir(tofu)
	tmp, err := os.MkdirTemp("", "migrate-tui-faults-")
	if err != nil {
		return fail("temp dir", err)
	}
	defer os.RemoveAll(tmp)
	// FAULTHARNESS_BIN runs a binary built elsewhere (e.g. from a clean
	// checkout of a commit) instead of building the working tree.
	if bin = os.Getenv("FAULTHARNESS_BIN"); bin == "" {
		bin = filepath.Join(tmp, "migrate-tui")
		build := exec.Command("go", "build", "-o", bin, "./cmd/migrate-tui")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return fail("building migrate-tui", fmt.Errorf("%v\n%s", err, out))
		}
	}
	if cliRC, err = testtools.WriteCLIConfig(tmp); err != nil {
		return fail("tofu CLI config", err)
	}
	plugins = filepath.Join(tmp, "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return fail("plugin cache", err)
	}
	nomad = nomadsim.New(nomadsim.Options{Token: nomadToken})
	if err := nomad.Start("127.0.0.1:0"); err != nil {
		return fail("Nomad simulator", err)
	}
	defer nomad.Close()
	nc, err := nomadwatch.NewClient(nomad.URL(), nomadToken)
	if err != nil {
		return fail("Nomad client", err)
	}
	bctx, bcancel := context.WithTimeout(context.Background(), time.Minute)
	base, err := nomadwatch.TakeBaseline(bctx, nc)
	bcancel()
	if err != nil {
		return fail("Nomad baseline", err)
	}
	for _, j := range base.Jobs {
		if j.Status == "running" && !j.Stopped {
			runningAtStart[j.Namespace+"/"+j.ID] = true
		}
	}
	if len(runningAtStart) == 0 {
		return fail("Nomad baseline", fmt.Errorf("the simulator runs no job: the Nomad check could not fail"))
	}
	vault = vaultsim.New(vaultToken)
	if err := vault.Start("127.0.0.1:0"); err != nil {
		return fail("Vault simulator", err)
	}
	defer vault.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w, err := testworld.Start(ctx, testworld.Options{KWOK: true, CRDs: true})
	if err != nil {
		return fail("the test world did not start", err)
	}
	defer w.Stop()
	world = w
	return m.Run()
}
