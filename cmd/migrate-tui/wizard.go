package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/checks/checksui"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/evaluate"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/stages/stageui"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tfvars"
	"migrate-tui/internal/tui"
)

// wizardOptions are the flags of the interactive wizard (no subcommand).
type wizardOptions struct {
	g          *globalOptions
	Accessible bool
	SSH        stages.SSHOptions // the cluster stage's install, as apply's flags
	repo       string
}

func wizardRunE(g *globalOptions, root *cobra.Command) func(*cobra.Command, []string) error {
	o := &wizardOptions{g: g}
	root.Flags().BoolVar(&o.Accessible, "accessible", false, "plain line-by-line prompts (huh's accessible mode) instead of the full-screen wizard")
	addSSHFlags(root.Flags(), &o.SSH, "the cluster stage's install: ")
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(cmd, args)
		}
		if err := o.Complete(); err != nil {
			return err
		}
		return o.Run()
	}
}

func (o *wizardOptions) Complete() error {
	repo, err := o.g.RepoDir()
	o.repo = repo
	return err
}

func (o *wizardOptions) Run() error {
	tui.RespectNoColor()
	// Before any style renders: never wait for the terminal's background colour.
	if err := tui.SetBackground(os.Getenv); err != nil {
		return usage(err)
	}
	lock, err := state.Acquire(o.repo, "migrate-tui (wizard)")
	if err != nil {
		return err
	}
	defer lock.Release()
	// A corrupt or newer state file stops here, before any screen.
	st, err := state.Load(o.repo)
	if err != nil {
		return err
	}
	// Keys terraform.tfvars already holds seed the forms; an unparsable file
	// stops here, before anything could overwrite it.
	existing, skipped, err := decide.FromTfvars(filepath.Join(o.repo, tfvars.FileName))
	if err != nil {
		return err
	}
	notice := lock.StaleNotice()
	if len(skipped) > 0 {
		notice = strings.TrimSpace(notice + " terraform.tfvars values not used (the forms start from the defaults there): " + strings.Join(skipped, "; "))
	}
	// One context for the program and every command it runs; the applies
	// belong to runs, not to the screens that show them.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := stageui.NewRuns()
	opts := tui.Options{RepoDir: o.repo, Accessible: o.Accessible, Notice: notice, Existing: existing, Context: ctx,
		Screens: map[steps.Kind]tui.ScreenFactory{steps.KindStage: stageScreen(runs, o.SSH), steps.KindVerify: verifyScreen, steps.KindCutover: cutoverScreen, steps.KindEvaluate: evaluateScreen}}
	if o.Accessible {
		return tui.RunAccessible(opts, o.g.In, o.g.Out)
	}
	if f, ok := o.g.In.(*os.File); !ok || !term.IsTerminal(f.Fd()) {
		return usage(errors.New("the full-screen wizard needs a terminal on standard input; use migrate-tui --accessible for line-by-line prompts, or the status and decide commands in scripts"))
	}
	app := tui.New(opts, st)
	p := tea.NewProgram(app, tea.WithContext(ctx), tea.WithAltScreen(), tea.WithInput(o.g.In), tea.WithOutput(o.g.Out))
	_, err = p.Run()
	// Quitting during an apply: Terraform gets SIGINT (not the SIGKILL its
	// Pdeathsig would send if we exited) and we wait out its grace period,
	// so the state lock is released before the wizard's own lock.
	app.Close()
	waitForRuns(runs, o.g.Err)
	return err
}

// waitForRuns waits for the applies still running, saying why it waits.
func waitForRuns(runs *stageui.Runs, w io.Writer) {
	done := make(chan struct{})
	go func() { runs.Wait(); close(done) }()
	select {
	case <-done:
	default:
		fmt.Fprintln(w, "Stopping Terraform gracefully (SIGINT); waiting for it to release the state lock…")
		<-done
	}
}

// stageScreen mounts a platform stage's screen (plan, confirm, apply,
// verify) from internal/stages/stageui, or the cluster stage's (install
// over SSH or adopt).
// runs holds the program's applies: a screen built again shows its
// stage's apply still running.
func stageScreen(runs *stageui.Runs, ssh stages.SSHOptions) tui.ScreenFactory {
	return func(c *tui.Common, step steps.Step) tea.Model {
		if step.Ref == stages.ClusterStage.Name {
			return clusterScreen(c, step, ssh)
		}
		s, ok := stages.ByName(step.Ref)
		if !ok {
			return tui.Placeholder(c, step)
		}
		build := func(c *tui.Common) (tea.Model, error) {
			r, err := stages.ForRepo(c.Context(), c.Opts.RepoDir, "")
			if err != nil {
				return nil, err
			}
			return stageModel{stageui.NewIn(c.Context(), runs, s, r)}, nil
		}
		isDone := func(msg tea.Msg) bool { _, ok := msg.(stageui.DoneMsg); return ok }
		return tui.Deferred(c, step, build, isDone)
	}
}

// clusterScreen mounts the cluster stage's screen (stageui.NewCluster): the
// same stages.Cluster and SSH options as `apply --stage cluster`.
func clusterScreen(c *tui.Common, step steps.Step, ssh stages.SSHOptions) tea.Model {
	build := func(c *tui.Common) (tea.Model, error) {
		cl, err := stages.ClusterForRepo(c.Context(), c.Opts.RepoDir)
		if err != nil {
			return nil, err
		}
		// Adopting names a cluster that is not the repository's yet: the
		// sandbox's $KUBECONFIG is the likely one, offered for editing.
		return stageui.NewCluster(c.Context(), cl, stageui.ClusterOptions{Title: step.Title, Why: step.Why, SSH: ssh,
			Kubeconfig: os.Getenv("KUBECONFIG")}), nil
	}
	isDone := func(msg tea.Msg) bool { _, ok := msg.(stageui.DoneMsg); return ok }
	return tui.Deferred(c, step, build, isDone)
}

// stageModel adapts stageui.Model (whose Update returns its own type) to tea.Model.
type stageModel struct{ m stageui.Model }

func (s stageModel) Init() tea.Cmd { return s.m.Init() }
func (s stageModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := s.m.Update(msg)
	return stageModel{m}, cmd
}
func (s stageModel) View() string { return s.m.View() }

// CapturesCtrlC: while Terraform applies, ctrl+c stops it gracefully.
func (s stageModel) CapturesCtrlC() bool { return s.m.CapturesCtrlC() }

// CapturesEsc: the first esc during an apply says what leaving means.
func (s stageModel) CapturesEsc() bool { return s.m.CapturesEsc() }

// Close stops the screen's plan or verification; an apply goes on.
func (s stageModel) Close() { s.m.Close() }

// verifyScreen mounts the success-criteria dashboard (internal/checks/checksui)
// with the same dependencies as `migrate-tui check` (evaluate.ForRepo); each finished run is
// recorded as the verify step's status (done when nothing fails).
func verifyScreen(c *tui.Common, step steps.Step) tea.Model {
	build := func(c *tui.Common) (tea.Model, error) {
		opts := checks.RunOptions{Concurrency: 4, Timeout: 60 * time.Second}
		d, _, _, err := evaluate.ForRepo(c.Context(), c.Opts.RepoDir, checks.RepoOptions{Timeout: opts.Timeout})
		if err != nil {
			return nil, err
		}
		all := checks.All()
		run := checksui.RunWith(all, d, opts)
		return &checksModel{c: c, id: step.ID, m: checksui.New(checksui.Options{Checks: all, Run: run, Context: c.Context()})}, nil
	}
	return tui.Deferred(c, step, build, nil)
}

type checksModel struct {
	c  *tui.Common
	id string
	m  checksui.Model
}

func (s *checksModel) Init() tea.Cmd { return s.m.Init() }

func (s *checksModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	wasBusy := s.m.Busy()
	m, cmd := s.m.Update(msg)
	s.m = m
	if wasBusy && !s.m.Busy() {
		return s, tea.Batch(cmd, s.record(s.m.Results()))
	}
	return s, cmd
}

func (s *checksModel) View() string { return s.m.View() }

// Close stops a run of the checks when the router leaves the screen.
func (s *checksModel) Close() { s.m.Stop() }

// record stores a finished run as the verify step's outcome.
func (s *checksModel) record(rs []checks.Result) tea.Cmd {
	id := s.id
	return s.c.Update(func(st *state.State, now time.Time) (string, error) {
		status, failed := steps.Done, 0
		var evidence []string
		for _, r := range rs {
			if r.Status == checks.Fail {
				failed++
				status = steps.Failed
			}
			evidence = append(evidence, fmt.Sprintf("%s %s: %s", r.ID, r.Status, r.Evidence))
		}
		msg := ""
		if failed > 0 {
			msg = fmt.Sprintf("%d success criteria failed", failed)
		}
		st.Finish(id, status, evidence, msg, now)
		return fmt.Sprintf("success criteria recorded: %d checks, %d failed", len(rs), failed), nil
	})
}
