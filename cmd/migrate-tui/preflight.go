package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/preflight"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tui"
)

// preflightOptions are `migrate-tui preflight`'s flags: the non-interactive
// twin of the wizard's preflight phase, with the same checks (internal/preflight).
type preflightOptions struct {
	g    *globalOptions
	JSON bool
	repo string
	// env is the preflight environment; tests leave it to the defaults.
	env preflight.Env
}

func newPreflightCmd(g *globalOptions) *cobra.Command {
	o := &preflightOptions{g: g}
	cmd := &cobra.Command{
		Use:   "preflight",
		Short: "Check tools and Nomad, record the node inventory and the Nomad baseline (the wizard's first phase)",
		Long: `Run the wizard's preflight without the TUI: terraform or tofu and ssh on PATH,
Nomad reachable with the token (NOMAD_ADDR, NOMAD_TOKEN, NOMAD_CACERT), the
node inventory, and the baseline of every Nomad job's health that each stage
compares against. Results are saved to .migrate-tui/state.json (never the
token). A step whose dependency failed is not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return usage(err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.Run(ctx)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print one JSON document with every step's result")
	return cmd
}

func (o *preflightOptions) Complete() error {
	repo, err := o.g.RepoDir()
	o.repo = repo
	return err
}

// preflightStep is one step in `preflight --json`.
type preflightStep struct {
	ID       string       `json:"id"`
	Title    string       `json:"title"`
	Status   steps.Status `json:"status"`
	Evidence []string     `json:"evidence,omitempty"`
	Error    string       `json:"error,omitempty"`
}

type preflightReport struct {
	Repository string          `json:"repository"`
	StateFile  string          `json:"state_file"`
	Passed     bool            `json:"passed"`
	Steps      []preflightStep `json:"steps"`
	Next       string          `json:"next"`
	ExitCode   int             `json:"exit_code"`
}

func (o *preflightOptions) Run(ctx context.Context) error {
	lock, err := state.Acquire(o.repo, "preflight")
	if err != nil {
		return err // a held lock exits 4 by the one table (exitCode)
	}
	defer lock.Release()
	if n := lock.StaleNotice(); n != "" && !o.JSON {
		fmt.Fprintln(o.g.Err, n)
	}
	now := time.Now
	if o.env.Now != nil {
		now = o.env.Now
	}
	st, err := state.LoadOrNew(o.repo, now())
	if err != nil {
		return err
	}
	plan := steps.Default()
	rep := preflightReport{Repository: o.repo, StateFile: state.Path(o.repo), Passed: true}
	failed := map[string]bool{}
	for _, id := range preflight.StepIDs {
		step := plan.Get(id)
		ps := preflightStep{ID: id, Title: step.Title}
		var blocked []string
		for _, need := range step.Needs {
			if failed[need] {
				blocked = append(blocked, need)
			}
		}
		if len(blocked) > 0 {
			// Not recorded: the step was not checked, so its old record stays.
			failed[id] = true
			ps.Status = steps.Pending
			ps.Error = "not run: it needs " + strings.Join(blocked, ", ") + ", which failed"
			rep.Steps = append(rep.Steps, ps)
			rep.Passed = false
			continue
		}
		r := preflight.Run(ctx, id, o.env)
		preflight.Record(st, r, now())
		ps.Status, ps.Evidence = r.Status, r.Evidence
		if r.Err != nil {
			ps.Error = r.Err.Error()
		}
		if r.Status != steps.Done {
			failed[id] = true
			rep.Passed = false
		}
		rep.Steps = append(rep.Steps, ps)
		if !o.JSON {
			o.print(ps)
		}
	}
	faultpoint.Hit(faultpoint.PreflightBeforeSave)
	if err := state.Save(o.repo, st, now()); err != nil {
		return fmt.Errorf("preflight ran but its results could not be saved: %w", err)
	}
	if rep.Passed {
		rep.Next = "make the decisions: migrate-tui decide --defaults (or --set / --answers), or the wizard"
	} else {
		rep.ExitCode = exitFailed
		rep.Next = "fix what failed and run migrate-tui preflight again"
	}
	if o.JSON {
		enc := json.NewEncoder(o.g.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		if !rep.Passed {
			return errors.New("") // the JSON carries the message
		}
		return nil
	}
	for _, ps := range rep.Steps {
		if ps.Status == steps.Pending {
			o.print(ps)
		}
	}
	if !rep.Passed {
		return fmt.Errorf("preflight did not pass (results saved in %s); %s", rep.StateFile, rep.Next)
	}
	fmt.Fprintf(o.g.Out, "Preflight passed; results saved in %s. Next: %s.\n", rep.StateFile, rep.Next)
	return nil
}

func (o *preflightOptions) print(ps preflightStep) {
	mark := tui.Mark(ps.Status)
	fmt.Fprintf(o.g.Out, "%s %s (%s)\n", mark, ps.Title, ps.ID)
	if ps.Error != "" {
		fmt.Fprintf(o.g.Out, "    %s\n", strings.ReplaceAll(ps.Error, "\n", "\n    "))
	}
	for _, e := range ps.Evidence {
		fmt.Fprintf(o.g.Out, "    %s\n", e)
	}
}
