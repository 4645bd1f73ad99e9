package evaluate

import (
	"fmt"
	"strings"

	"migrate-tui/internal/rightsize"
)

// ExtraMarkdown is the evaluate part of decision.md's evidence section: the
// services moved and every service's VPA right-sizing.
func ExtraMarkdown(moved []Moved, rep *rightsize.Report, repErr string) string {
	var b strings.Builder
	b.WriteString("\n### Services moved\n\n")
	if len(moved) == 0 {
		b.WriteString("No service has a cutover record yet (migrate-tui cutover).\n")
	} else {
		b.WriteString("| Service | Nomad job | Phase | Nomad job stopped | Traffic switch confirmed |\n|---|---|---|---|---|\n")
		for _, m := range moved {
			stopped := "-"
			if m.StoppedAt != nil {
				stopped = m.StoppedAt.UTC().Format("2006-01-02 15:04")
			}
			confirmed := "no"
			if m.RoutingConfirmed {
				confirmed = "yes"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m.Service, m.NomadJob, m.Phase, stopped, confirmed)
		}
	}
	b.WriteString("\n### VPA right-sizing\n\n")
	if rep == nil {
		fmt.Fprintf(&b, "Not available: %s\n", repErr)
		return b.String()
	}
	if rep.CoreMHz > 0 {
		fmt.Fprintf(&b, "1 core (1000m) = %d MHz (%s); saving = Nomad's reservation minus VPA's target.\n\n", rep.CoreMHz, rep.CoreMHzSource)
	}
	b.WriteString("| Service | Runs on | Result | Nomad cpu / memory | VPA target cpu / memory | Saving cpu / memory |\n|---|---|---|---|---|---|\n")
	for _, s := range rep.Services {
		if len(s.Tasks) == 0 {
			fmt.Fprintf(&b, "| %s | %s | %s | - | - | %s |\n", s.Service, s.Where, s.Status, strings.ReplaceAll(s.Evidence, "|", "\\|"))
			continue
		}
		var nomad, target int
		var nomadMem, targetMem int
		for _, t := range s.Tasks {
			nomad += t.Nomad.CPUMHz
			nomadMem += t.Nomad.MemoryMB
			target += t.Target.CPUMHz
			targetMem += t.Target.MemoryMB
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d MHz / %d MB | %d MHz / %d MB | %d MHz / %d MB |\n",
			s.Service, s.Where, s.Status, nomad, nomadMem, target, targetMem, s.Saving.CPUMHz, s.Saving.MemoryMB)
	}
	fmt.Fprintf(&b, "\nTotal saving: cpu %d MHz, memory %d MB.\n", rep.Total.CPUMHz, rep.Total.MemoryMB)
	for _, s := range rep.Services {
		if s.JobspecDiff != "" {
			fmt.Fprintf(&b, "\n%s stays on Nomad; its jobspec sized to the VPA target:\n\n```diff\n%s```\n", s.Service, s.JobspecDiff)
		}
	}
	return b.String()
}
