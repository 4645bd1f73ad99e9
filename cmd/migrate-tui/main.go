// Command migrate-tui carries a homelab operator from Nomad to Kubernetes:
// decisions, stages, live checks and cutover, with Nomad left undisturbed.
package main

import (
	"fmt"
	"os"

	// Before Bubble Tea's init: the terminal is never asked for its
	// background colour unless $MIGRATE_TUI_BACKGROUND=auto (see the package).
	_ "bgcolor"
)

func main() {
	err := newRootCmd(os.Stdin, os.Stdout, os.Stderr).Execute()
	if err == nil {
		return
	}
	// An empty message means the command already printed it (its --json
	// document carries it).
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(os.Stderr, "migrate-tui:", msg)
	}
	os.Exit(exitCode(err)) // the one table: exitcodes.go
}
