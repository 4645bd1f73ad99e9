// Command migrate-tui carries a homelab operator from Nomad to Kubernetes:
// decisions, stages, live checks and cutover, with Nomad left undisturbed.
package main

import (
	"errors"
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
	var ec exitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "migrate-tui:", msg)
		}
		os.Exit(ec.ExitCode())
	}
	fmt.Fprintln(os.Stderr, "migrate-tui:", err)
	os.Exit(1)
}
