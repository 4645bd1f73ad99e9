package evaluate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"migrate-tui/internal/checks"
)

// WriteJSON prints the evidence as one JSON object.
func WriteJSON(w io.Writer, ev Evidence) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ev)
}

// WriteText prints the evidence for a person: the proposal first, then what
// it rests on; the details are in the record and in --json.
func WriteText(w io.Writer, ev Evidence) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Proposed: %s\nRule: %s\n\n", ev.Proposal.Summary(), ev.Proposal.Rule)
	for _, r := range ev.Checks {
		fmt.Fprintf(&b, "%s %-7s %s\n", r.Status.Mark(), r.ID, r.Title)
		if r.Status == checks.Fail && r.Hint != "" {
			fmt.Fprintf(&b, "          next: %s\n", r.Hint)
		}
	}
	b.WriteString("\nOverhead per node (memory; CPU in millicores on Kubernetes, MHz on Nomad):\n")
	if ev.OverheadError != "" {
		fmt.Fprintf(&b, "  not measured: %s\n", ev.OverheadError)
	}
	for _, o := range ev.Overhead {
		line := fmt.Sprintf("  %s: K8s node %d MiB / %dm in use, platform pods %d MiB / %dm", o.Node, o.NodeUsedMB, o.NodeCPUMilli, o.PlatformMB, o.PlatformCPUMilli)
		if o.Nomad != nil {
			line += fmt.Sprintf("; Nomad agents+OS %d MiB / %d MHz, allocations %d MiB / %d MHz", o.Nomad.AgentsMB(), o.Nomad.AgentsCPUMHz(), o.Nomad.AllocsMB, o.Nomad.AllocsCPUMHz)
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\nServices moved:\n")
	if len(ev.Moved) == 0 {
		b.WriteString("  none yet\n")
	}
	for _, m := range ev.Moved {
		fmt.Fprintf(&b, "  %s: %s\n", m.Service, m.Phase)
	}
	b.WriteString("\nVPA savings:\n")
	if ev.Rightsize == nil {
		fmt.Fprintf(&b, "  not available: %s\n", ev.RightsizeError)
	} else {
		for _, s := range ev.Rightsize.Services {
			fmt.Fprintf(&b, "  %s %s (on %s): %s\n", s.Status.Mark(), s.Service, s.Where, s.Evidence)
		}
		fmt.Fprintf(&b, "  total saving: cpu %d MHz, memory %d MB (migrate-tui rightsize shows the jobspec diffs)\n", ev.Rightsize.Total.CPUMHz, ev.Rightsize.Total.MemoryMB)
	}
	switch ev.Decision.State {
	case "draft":
		fmt.Fprintf(&b, "\nDraft decision record: %s. The decision is yours: write it there and delete the draft marker line.\n", ev.Decision.Path)
	case "final":
		fmt.Fprintf(&b, "\nDecision recorded in %s (its evidence section was regenerated; your text is untouched).\n", ev.Decision.Path)
	}
	if ev.DecisionError != "" {
		fmt.Fprintf(&b, "\nThe decision record was not written: %s. Check that the directory is writable and run evaluate again.\n", ev.DecisionError)
	}
	if ev.Decision.DraftPath != "" {
		fmt.Fprintf(&b, "A draft with the new evidence is in %s: %s has no evidence section, so migrate-tui leaves it alone.\n", ev.Decision.DraftPath, ev.Decision.Path)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
