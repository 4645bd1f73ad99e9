package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"bgcolor"
)

// BackgroundEnv names the variable that tells the wizard the terminal's
// background: "dark" (the default), "light", or "auto" to ask the terminal
// (which waits up to 5 s for a terminal that does not answer).
const BackgroundEnv = bgcolor.Env

// SetBackground checks $MIGRATE_TUI_BACKGROUND and fixes lipgloss's idea of
// the terminal background before the first style renders.
//
// Why: huh's theme and bubbles' help use lipgloss.AdaptiveColor, and lipgloss
// resolves one by asking the terminal for its background colour (termenv's
// OSC 11 query, renderer.go HasDarkBackground), which waits termenv's
// OSCTimeout (5 s) on a terminal that never answers. Bubble Tea v1.3.10 even
// asks in its package init (tea_init.go), which is why package bgcolor sets
// the background before it; this call repeats the setting where the wizard
// starts and refuses a value that is neither dark, light nor auto.
func SetBackground(getenv func(string) string) error {
	switch v := strings.ToLower(strings.TrimSpace(getenv(BackgroundEnv))); v {
	case "", "dark":
		lipgloss.SetHasDarkBackground(true)
	case "light":
		lipgloss.SetHasDarkBackground(false)
	case "auto":
		// lipgloss asks the terminal when the first adaptive colour renders.
	default:
		return fmt.Errorf("$%s is %q: want dark, light or auto (the terminal's background; the default is dark)", BackgroundEnv, v)
	}
	return nil
}
