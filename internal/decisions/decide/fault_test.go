package decide

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tfvars"
)

// TestHelperDecideChild is not a test: run as a child with DECIDE_CHILD_REPO
// set, it decides vpa_update_mode=Initial there (and is killed on the way by
// MIGRATE_TUI_FAULT).
func TestHelperDecideChild(t *testing.T) {
	repo := os.Getenv("DECIDE_CHILD_REPO")
	if repo == "" {
		return
	}
	st, err := state.Load(repo)
	if err != nil {
		os.Exit(3)
	}
	if _, err := Apply(repo, st, decisions.Answers{"vpa_update_mode": "Initial"}, "decide --set", time.Now()); err != nil {
		os.Exit(4)
	}
	os.Exit(0)
}

// Killed (SIGKILL) at a fault point inside decide, a rerun finishes: the
// state and terraform.tfvars parse and agree, and nothing is left half
// written.
func TestDecideKilledMidWayRerunFinishes(t *testing.T) {
	for _, point := range []string{faultpoint.AtomicBeforeRename, faultpoint.DecideBetweenWrites} {
		t.Run(point, func(t *testing.T) {
			repo := t.TempDir()
			st := state.New(now)
			if _, err := Apply(repo, st, defaultsAnswers(), "test", now); err != nil {
				t.Fatal(err)
			}
			tfBefore, _ := os.ReadFile(filepath.Join(repo, tfvars.FileName))
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDecideChild$")
			cmd.Env = append(os.Environ(), "DECIDE_CHILD_REPO="+repo, faultpoint.Env+"="+point)
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the child was not killed at %s: %v", point, err)
			}
			// Whatever the kill left parses.
			st2, err := state.Load(repo)
			if err != nil {
				t.Fatalf("state after the kill: %v", err)
			}
			if _, _, err := tfvars.Read(filepath.Join(repo, tfvars.FileName)); err != nil {
				t.Fatalf("terraform.tfvars after the kill: %v", err)
			}
			if point == faultpoint.AtomicBeforeRename {
				if tf, _ := os.ReadFile(filepath.Join(repo, tfvars.FileName)); string(tf) != string(tfBefore) {
					t.Fatal("terraform.tfvars changed although the kill came before its rename")
				}
			}
			// The rerun finishes and both files agree.
			if _, err := Apply(repo, st2, decisions.Answers{"vpa_update_mode": "Initial"}, "decide --set", now); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			st3, _ := state.Load(repo)
			ans, _ := st3.Answers()
			vals, _, _ := tfvars.Read(filepath.Join(repo, tfvars.FileName))
			if ans.Str("vpa_update_mode") != "Initial" || vals["vpa_update_mode"].AsString() != "Initial" {
				t.Fatalf("after the rerun: state %q, tfvars %#v", ans.Str("vpa_update_mode"), vals["vpa_update_mode"])
			}
			entries, _ := os.ReadDir(repo)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("leftover temp file %s after the rerun", e.Name())
				}
			}
		})
	}
}
