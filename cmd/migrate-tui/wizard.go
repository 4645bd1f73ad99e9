package main

import (
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"migrate-tui/internal/state"
	"migrate-tui/internal/tui"
)

// wizardOptions are the flags of the interactive wizard (no subcommand).
type wizardOptions struct {
	g          *globalOptions
	Accessible bool
	repo       string
}

func wizardRunE(g *globalOptions, root *cobra.Command) func(*cobra.Command, []string) error {
	o := &wizardOptions{g: g}
	root.Flags().BoolVar(&o.Accessible, "accessible", false, "plain line-by-line prompts (huh's accessible mode) instead of the full-screen wizard")
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return withExit(2, fmt.Errorf("unknown command %q; see migrate-tui --help", args[0]))
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
	opts := tui.Options{RepoDir: o.repo, Accessible: o.Accessible, Notice: lock.StaleNotice()}
	if o.Accessible {
		return tui.RunAccessible(opts, o.g.In, o.g.Out)
	}
	if f, ok := o.g.In.(*os.File); !ok || !term.IsTerminal(f.Fd()) {
		return withExit(2, errors.New("the full-screen wizard needs a terminal on standard input; use migrate-tui --accessible for line-by-line prompts, or the status and decide commands in scripts"))
	}
	p := tea.NewProgram(tui.New(opts, st), tea.WithAltScreen(), tea.WithInput(o.g.In), tea.WithOutput(o.g.Out))
	_, err = p.Run()
	return err
}
