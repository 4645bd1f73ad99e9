package stageui

import tea "github.com/charmbracelet/bubbletea"

// Screen adapts Model to tea.Model for a host router: when the stage is
// finished it sends what OnDone returns (e.g. the wizard's StepDoneMsg).
type Screen struct {
	Model  Model
	OnDone func(DoneMsg) tea.Msg
}

// Init plans the stage.
func (s Screen) Init() tea.Cmd { return s.Model.Init() }

// Update forwards to the model and translates DoneMsg.
func (s Screen) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if d, ok := msg.(DoneMsg); ok && s.OnDone != nil {
		return s, func() tea.Msg { return s.OnDone(d) }
	}
	var cmd tea.Cmd
	s.Model, cmd = s.Model.Update(msg)
	return s, cmd
}

// View renders the stage.
func (s Screen) View() string { return s.Model.View() }

// Close, CapturesEsc and CapturesCtrlC pass the host router's lifecycle on.
func (s Screen) Close()              { s.Model.Close() }
func (s Screen) CapturesEsc() bool   { return s.Model.CapturesEsc() }
func (s Screen) CapturesCtrlC() bool { return s.Model.CapturesCtrlC() }
