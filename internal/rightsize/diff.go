package rightsize

import (
	"fmt"
	"strings"
)

// JobspecDiff renders the resources change for a service staying on Nomad as
// a unified diff of each task's resources block, in HCL, against the
// homelab's layout (modules/<service>/jobspec.nomad.hcl). It is built from
// the job as Nomad returned it, not from the file: the operator's file may
// format it differently, so the hunk is a guide to apply by hand. Tasks
// already at their target are left out; "" means nothing to change.
func JobspecDiff(service string, tasks []Task) string {
	var hunks []string
	for _, t := range tasks {
		if h := taskHunk(t); h != "" {
			hunks = append(hunks, h)
		}
	}
	if len(hunks) == 0 {
		return ""
	}
	file := "modules/" + service + "/jobspec.nomad.hcl"
	return fmt.Sprintf("--- a/%s\n+++ b/%s\n%s", file, file, strings.Join(hunks, ""))
}

func taskHunk(t Task) string {
	newMax := t.MemoryMaxMB
	if newMax > 0 && newMax < t.Target.MemoryMB {
		newMax = t.Target.MemoryMB // Nomad refuses memory_max below memory
	}
	if t.Nomad == t.Target && newMax == t.MemoryMaxMB {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@@ group %q task %q @@\n", t.Group, t.Task)
	b.WriteString("   resources {\n")
	line := func(sign, key string, v int) { fmt.Fprintf(&b, "%s    %-10s = %d\n", sign, key, v) }
	if t.Nomad.CPUMHz == t.Target.CPUMHz {
		line(" ", "cpu", t.Nomad.CPUMHz)
	} else {
		line("-", "cpu", t.Nomad.CPUMHz)
	}
	if t.Nomad.MemoryMB != t.Target.MemoryMB {
		line("-", "memory", t.Nomad.MemoryMB)
	}
	if t.MemoryMaxMB > 0 && newMax != t.MemoryMaxMB {
		line("-", "memory_max", t.MemoryMaxMB)
	}
	if t.Nomad.CPUMHz != t.Target.CPUMHz {
		line("+", "cpu", t.Target.CPUMHz)
	}
	if t.Nomad.MemoryMB != t.Target.MemoryMB {
		line("+", "memory", t.Target.MemoryMB)
	} else {
		line(" ", "memory", t.Nomad.MemoryMB)
	}
	if t.MemoryMaxMB > 0 {
		if newMax != t.MemoryMaxMB {
			line("+", "memory_max", newMax)
		} else {
			line(" ", "memory_max", t.MemoryMaxMB)
		}
	}
	b.WriteString("   }\n")
	return b.String()
}
