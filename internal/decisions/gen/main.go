// Command gen writes specs/003-nomad-to-kubernetes/research.md from the
// decision catalogue. Run from the repository root:
//
//	go run ./internal/decisions/gen
package main

import (
	"fmt"
	"os"

	"migrate-tui/internal/decisions"
)

func main() {
	if err := os.WriteFile(decisions.ResearchPath, []byte(decisions.Markdown()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err, "(run it from the repository root)")
		os.Exit(1)
	}
}
