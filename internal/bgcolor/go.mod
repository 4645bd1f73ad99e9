// Module bgcolor is a module of its own only for its import path: Go
// initialises packages in import-path order once their imports are ready
// (the spec's "Package initialization", Go 1.21+), and "bgcolor" sorts before
// "github.com/charmbracelet/bubbletea", whose init asks the terminal for its
// background colour. The main module uses it through a replace directive.
module bgcolor

go 1.26.0

require github.com/charmbracelet/lipgloss v1.1.0
