package faultharness

import (
	"testing"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/tlssecret/tlstest"
)

// The chain: each step is killed at its point and rerun, in order; a step
// starts from a copy of the previous step's repository.
func TestKilledAtEachPointRerunFinishes(t *testing.T) {
	pair := tlstest.Valid(t, "brmartin.co.uk") // decide --defaults: domain brmartin.co.uk
	cert, key := pair.Files(t, t.TempDir())
	secrets := []string{vaultToken, nomadToken, tlstest.KeyBody(t, pair.KeyPEM)}

	apply := func(stage string) []string { return []string{"apply", "--stage", stage, "--yes", "--json"} }
	cut := []string{"cutover", "--service", "whoami", "--yes", "--json", "--routing-done", "--accept-unobserved", "--wait", "1m"}
	back := []string{"cutover", "--rollback", "--service", "whoami", "--yes", "--json", "--wait", "1m"}
	steps := []step{
		{point: faultpoint.PreflightBeforeSave, args: []string{"preflight", "--json"}},
		{point: faultpoint.AtomicBeforeRename, args: []string{"decide", "--defaults"}},
		{point: faultpoint.DecideBetweenWrites, args: []string{"decide", "--set", "vpa_update_mode=Initial"}},
		{point: faultpoint.ClusterAdoptAfterTFVars, args: []string{"apply", "--stage", "cluster", "--kubeconfig", world.Kubeconfig, "--json"}},
		// Each stage's first apply (the world has none of it yet) at a
		// point only a plan with changes reaches.
		{point: faultpoint.StagesAfterSetEnabled, args: apply("storage")},
		{point: faultpoint.StagesAfterCommitVars, args: apply("vault")},
		{point: faultpoint.TFDuringApply, args: apply("vpa")},
		{point: faultpoint.TLSAfterNamespace, args: []string{"tls-secret", "--cert", cert, "--key", key}},
		{point: faultpoint.TFBeforeApply, args: apply("ingress")},
		// vpa_update_mode Initial <-> Off adds or removes the VPA updater:
		// the vpa stage has changes again.
		{point: faultpoint.AtomicBeforeRename, args: []string{"decide", "--set", "vpa_update_mode=Off"}},
		{point: faultpoint.TFAfterApply, args: apply("vpa"), applied: true},
		{point: faultpoint.DecideBetweenWrites, args: []string{"decide", "--set", "vpa_update_mode=Initial"}},
		{point: faultpoint.StagesAfterApply, args: apply("vpa"), applied: true},
		// Stages with nothing (more) to change: the rerun re-plans and verifies.
		{point: faultpoint.TFBeforeInit, args: apply("mesh")},
		{point: faultpoint.TFAfterInit, args: apply("mesh")},
		{point: faultpoint.StagesAfterPlan, args: apply("mesh")},
		{point: faultpoint.StagesBeforeRecord, args: apply("mesh")},
		{point: faultpoint.VaultAfterAuthEnable, args: apply("vault")},
		{point: faultpoint.VaultAfterConfig, args: apply("vault")},

		// Cutovers and rollbacks of whoami, back and forth.
		{point: faultpoint.CutoverAfterSaveSpec, args: cut, before: func(t *testing.T, _ string) { whoamiReady(t, "poc") }},
		{point: faultpoint.RollbackAfterMarkRolling, args: back},
		{point: faultpoint.CutoverAfterStop, args: cut},
		{point: faultpoint.RollbackAfterRegister, args: back},
		{point: faultpoint.CutoverAfterRecordStop, args: cut},
		{point: faultpoint.RollbackBeforeRecord, args: back},
		{point: faultpoint.CutoverBeforeRouting, args: cut},
		{point: faultpoint.AtomicBeforeRename, args: back},
		{point: faultpoint.CutoverStopWait, args: cut, sigint: true},
		// The machine's own points: around the traffic switch and its undo.
		{point: faultpoint.RollbackBeforeUnswitch, args: back},
		{point: faultpoint.CutoverAfterSwitch, args: cut},
	}
	dir, root := operatorRepo(t), t.TempDir()
	failed := false
	for _, s := range steps {
		name := s.point + "/" + s.args[0]
		switch {
		case s.args[0] == "apply":
			name += "-" + s.args[2]
		case s.args[0] == "cutover" && s.args[1] == "--rollback":
			name += "-rollback"
		case s.args[0] == "decide" && len(s.args) > 2:
			name += "-set"
		}
		ok := t.Run(name, func(t *testing.T) {
			if failed {
				t.Skip("an earlier step failed: this one starts from its repository")
			}
			dir = killAndRerun(t, dir, root, s, secrets)
		})
		failed = failed || !ok
	}
}
