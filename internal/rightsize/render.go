package rightsize

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText prints the report for a person: one line per task, the saving,
// and the jobspec diff of services staying on Nomad.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "1 core = %d MHz (%s)\n", r.CoreMHz, r.CoreMHzSource)
	for _, s := range r.Services {
		fmt.Fprintf(&b, "%s %s (on %s): %s\n", s.Status.Mark(), s.Service, s.Where, s.Evidence)
		for _, t := range s.Tasks {
			fmt.Fprintf(&b, "    %s/%s: Nomad cpu %d MHz mem %d MB; VPA target cpu %s (%d MHz) mem %s (%d MB); saving cpu %d MHz mem %d MB\n",
				t.Group, t.Task, t.Nomad.CPUMHz, t.Nomad.MemoryMB, t.TargetCPU, t.Target.CPUMHz, t.TargetMemory, t.Target.MemoryMB, t.Saving.CPUMHz, t.Saving.MemoryMB)
		}
		if s.JobspecDiff != "" {
			for _, l := range strings.Split(strings.TrimRight(s.JobspecDiff, "\n"), "\n") {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	fmt.Fprintf(&b, "total saving: cpu %d MHz, memory %d MB\n", r.Total.CPUMHz, r.Total.MemoryMB)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as one JSON object.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
