// Package bgcolor tells lipgloss the terminal's background before Bubble
// Tea's package init can ask the terminal for it.
//
// Why: bubbletea v1.3.10 tea_init.go calls lipgloss.HasDarkBackground() in
// init(), so every migrate-tui command, before main runs, sends the OSC 11
// background query (termenv termStatusReport) and, on a terminal that never
// answers, waits termenv's OSCTimeout of 5 s. lipgloss skips the query once
// the background is set explicitly (Renderer.SetHasDarkBackground sets
// explicitBackgroundColor). This package's init runs first because Go
// initialises ready packages in import-path order and "bgcolor" sorts before
// "github.com/...". main imports it for that side effect.
package bgcolor

import (
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Env names the variable that says the terminal's background: "dark" (the
// default), "light", or "auto" to let lipgloss ask the terminal (which waits
// up to 5 s when the terminal does not answer). Any other value counts as
// dark here; the wizard refuses it with a message (internal/tui).
const Env = "MIGRATE_TUI_BACKGROUND"

func init() {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(Env))) {
	case "auto":
	case "light":
		lipgloss.SetHasDarkBackground(false)
	default:
		lipgloss.SetHasDarkBackground(true)
	}
}
