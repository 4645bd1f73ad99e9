package main

import (
	"errors"
	"os"
	"path/filepath"

	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/cutover"
	"migrate-tui/internal/cutover/cutoverui"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tui"
)

// cutoverScreen mounts the Cutover screen (internal/cutover/cutoverui) on
// the machines `migrate-tui cutover` builds (newMachineDeps), with that
// command's defaults: an HTTPS check it cannot observe blocks (the screen
// says so) until --dial or MIGRATE_TUI_INGRESS_ADDR names the K3s Traefik.
func cutoverScreen(c *tui.Common, step steps.Step) tea.Model {
	build := func(c *tui.Common) (tea.Model, error) {
		repo := c.Opts.RepoDir
		dec, err := checks.LoadDecisions(filepath.Join(repo, "terraform.tfvars"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		md, err := newMachineDeps(c.Context(), repo, dec, machineFlags{})
		if err != nil {
			return nil, err
		}
		d := cutoverui.MachineDriver{Repo: repo, Nomad: md.nomad, Serialize: c.Locked, RightsizeService: md.rightsize, New: func(e cutover.Entry) cutover.Machine {
			// The job is the one Nomad lists for the entry: confirmed by name.
			return md.machine(cutover.Target{Service: e.Service, NomadJob: e.NomadJob, Namespace: e.Namespace}, e.NomadJob, cutover.Prompts{})
		}}
		return cutoverModel{cutoverui.New(c.Context(), d)}, nil
	}
	return tui.Deferred(c, step, build, nil)
}

// cutoverModel adapts cutoverui.Model (whose Update returns its own type).
type cutoverModel struct{ m cutoverui.Model }

func (s cutoverModel) Init() tea.Cmd { return s.m.Init() }
func (s cutoverModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := s.m.Update(msg)
	return cutoverModel{m}, cmd
}
func (s cutoverModel) View() string { return s.m.View() }

// CapturesEsc: esc leaves a checklist or a confirmation first.
func (s cutoverModel) CapturesEsc() bool { return s.m.CapturesEsc() }

// Help is the screen's key line.
func (s cutoverModel) Help() string { return s.m.Help() }
