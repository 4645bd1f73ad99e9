package status

import "github.com/charmbracelet/lipgloss"

// Theme is the one set of styles the screens draw with (internal/tui,
// checksui, stageui). With NO_COLOR lipgloss renders them without colour
// (tui.RespectNoColor).
type Theme struct {
	Title, Heading, Dim, OK, Bad, Warn, Cursor, Key, Pane, Selected lipgloss.Style
}

// DefaultTheme builds the theme: ANSI colours 1-3 so a terminal's own
// palette decides the shade.
func DefaultTheme() Theme {
	return Theme{
		Title:    lipgloss.NewStyle().Bold(true),
		Heading:  lipgloss.NewStyle().Bold(true).Underline(true),
		Dim:      lipgloss.NewStyle().Faint(true),
		OK:       lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		Bad:      lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Warn:     lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		Cursor:   lipgloss.NewStyle().Reverse(true),
		Key:      lipgloss.NewStyle().Bold(true),
		Pane:     lipgloss.NewStyle(),
		Selected: lipgloss.NewStyle().Bold(true),
	}
}

// Style is the style a status is drawn in.
func (t Theme) Style(s Status) lipgloss.Style {
	switch s {
	case Pass:
		return t.OK
	case Fail:
		return t.Bad
	case Warn, Unobservable:
		return t.Warn
	}
	return t.Dim
}

// Mark is s's mark in its style.
func (t Theme) Mark(s Status) string { return t.Style(s).Render(s.Mark()) }

// Truncate cuts s to n runes (at least 10), an ellipsis marking the cut:
// the screens' one rule for a line that does not fit.
func Truncate(s string, n int) string {
	n = max(n, 10)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
