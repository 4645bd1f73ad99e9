package cutoverui_test

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/cutover/cutoverui"
)

// counting is a Driver that counts the changes asked of it: the unit test
// of the confirmation (the proof against real things is the teatest).
type counting struct{ advances, rollbacks int }

func (c *counting) List(context.Context) ([]cutover.Entry, error) {
	return []cutover.Entry{{Service: "whoami", NomadJob: "whoami", Namespace: "default", State: cutover.Verified}}, nil
}
func (c *counting) Check(context.Context, cutover.Entry, cutoverui.Options) (cutover.State, cutover.State, cutover.Gate, error) {
	return cutover.Verified, cutover.TrafficSwitched, cutover.Gate{Checks: []cutover.GateCheck{{ID: "SC-001", Checked: "ready", Status: cutover.Pass}}}, nil
}
func (c *counting) Advance(context.Context, cutover.Entry, cutoverui.Options) (cutover.Outcome, error) {
	c.advances++
	return cutover.Outcome{State: cutover.TrafficSwitched}, nil
}
func (c *counting) Rollback(context.Context, cutover.Entry) (cutover.Outcome, error) {
	c.rollbacks++
	return cutover.Outcome{State: cutover.OnNomadOnly}, nil
}
func (c *counting) Confirmation(cutover.Entry, cutover.State) string {
	return "Made the Traefik change?"
}

// drive runs a command and feeds its message back, as the program would.
func drive(m cutoverui.Model, cmd tea.Cmd) cutoverui.Model {
	for cmd != nil {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				m = drive(m, c)
			}
			return m
		}
		m, cmd = m.Update(msg)
	}
	return m
}

func key(m cutoverui.Model, k string) cutoverui.Model {
	msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
	if k == "enter" {
		msg = tea.KeyMsg{Type: tea.KeyEnter}
	}
	m, cmd := m.Update(msg)
	return drive(m, cmd)
}

// Nothing changes without a y: n cancels, and only y calls the machine.
func TestConfirmationGuardsEveryChange(t *testing.T) {
	d := &counting{}
	m := cutoverui.New(context.Background(), d)
	m = drive(m, m.Init())
	m = key(m, "enter")
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Checks before traffic-switched: ready") {
		t.Fatalf("checklist not shown:\n%s", v)
	}
	m = key(m, "a")
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Made the Traefik change? [y/n]") {
		t.Fatalf("no confirmation:\n%s", v)
	}
	m = key(m, "n")
	m = key(m, "b")
	m = key(m, "n")
	if d.advances+d.rollbacks != 0 {
		t.Fatalf("declined, yet the machine was called (%d advances, %d rollbacks)", d.advances, d.rollbacks)
	}
	m = key(m, "a")
	m = key(m, "y")
	m = key(m, "b")
	key(m, "y")
	if d.advances != 1 || d.rollbacks != 1 {
		t.Fatalf("confirmed: %d advances, %d rollbacks, want 1 and 1", d.advances, d.rollbacks)
	}
}
