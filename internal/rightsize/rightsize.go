// Package rightsize sets each service's VPA target beside what its Nomad job
// reserves: the saving, and for a service staying on Nomad the change as a
// jobspec diff of the task's resources block. One function (Compute) serves
// `migrate-tui rightsize`, the cutover check and the go/no-go evidence.
package rightsize

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/status"
)

// VPA reads the VPA recommendation of each service's workload.
// checks.VPATargets (through FromDeps) implements it.
type VPA interface {
	Targets(ctx context.Context, services []string) ([]checks.ServiceVPA, error)
}

// Nomad reads what a Nomad job's tasks reserve. checks.NomadWatch implements it.
type Nomad interface {
	TaskResources(ctx context.Context, jobID string) ([]checks.TaskResources, error)
}

// Options say how to compare.
type Options struct {
	// CoreMHz is what one core (1000 millicores) is worth in Nomad's cpu
	// MHz; see CPUToMHz. Zero is refused: guessing would make every saving
	// wrong by the ratio of clocks.
	CoreMHz int
	// CoreMHzSource says where CoreMHz came from, for the evidence.
	CoreMHzSource string
	// OnKubernetes names the services whose Nomad job a cutover stopped:
	// for them the saving is what leaving Nomad frees, and no jobspec diff
	// is proposed.
	OnKubernetes map[string]bool
}

// Amount is a CPU and memory figure in Nomad's units.
type Amount struct {
	CPUMHz   int `json:"cpu_mhz"`
	MemoryMB int `json:"memory_mb"`
}

// Task is one Nomad task beside its container's VPA target.
type Task struct {
	Group     string `json:"group"`
	Task      string `json:"task"`
	Container string `json:"container"`
	// Nomad is what the jobspec reserves; MemoryMaxMB its memory_max (0: none).
	Nomad       Amount `json:"nomad"`
	MemoryMaxMB int    `json:"nomad_memory_max_mb,omitempty"`
	// VPA's target as the recommender wrote it, and in Nomad's units.
	TargetCPU    string `json:"vpa_target_cpu"`
	TargetMemory string `json:"vpa_target_memory"`
	Target       Amount `json:"vpa_target"`
	// Saving is Nomad minus target: positive frees capacity, negative means
	// Nomad reserves less than the service uses.
	Saving Amount `json:"saving"`
}

// Service is one service's right-sizing.
type Service struct {
	Service string `json:"service"`
	// Where the service runs now: "nomad" or "kubernetes" (a cutover
	// stopped its Nomad job).
	Where    string        `json:"where"`
	Status   status.Status `json:"status"`
	Evidence string        `json:"evidence"`
	VPA      string        `json:"vpa,omitempty"`
	Tasks    []Task        `json:"tasks,omitempty"`
	Saving   Amount        `json:"saving"`
	// JobspecDiff is the resources change for a service staying on Nomad.
	JobspecDiff string `json:"jobspec_diff,omitempty"`
}

// Report is every service's right-sizing.
type Report struct {
	CoreMHz       int       `json:"core_mhz"`
	CoreMHzSource string    `json:"core_mhz_source"`
	Services      []Service `json:"services"`
	// Total sums the savings of the services with a target.
	Total Amount `json:"total_saving"`
}

// Compute right-sizes services. A service without a VPA, a recommendation or
// a Nomad job is reported with the reason (skip or warn), never with a
// made-up figure; only an unreadable VPA list is an error.
func Compute(ctx context.Context, v VPA, n Nomad, services []string, o Options) (Report, error) {
	// Without Nomad nothing is compared, so the clock does not matter.
	if n != nil && o.CoreMHz <= 0 {
		return Report{}, fmt.Errorf("the MHz of one core is unknown (got %d): read it from Nomad's nodes or pass it (--core-mhz)", o.CoreMHz)
	}
	r := Report{CoreMHz: o.CoreMHz, CoreMHzSource: o.CoreMHzSource}
	svs, err := v.Targets(ctx, services)
	if err != nil {
		return r, fmt.Errorf("reading the VPA targets: %w. Check that the cluster answers (migrate-tui check --only SC-002), then run again", err)
	}
	for _, sv := range svs {
		s := compute(ctx, sv, n, o)
		if s.Status == status.Pass {
			r.Total.CPUMHz += s.Saving.CPUMHz
			r.Total.MemoryMB += s.Saving.MemoryMB
		}
		r.Services = append(r.Services, s)
	}
	return r, nil
}

func compute(ctx context.Context, sv checks.ServiceVPA, n Nomad, o Options) Service {
	s := Service{Service: sv.Service, Where: "nomad", VPA: sv.VPA}
	if o.OnKubernetes[sv.Service] {
		s.Where = "kubernetes"
	}
	if sv.Missing != "" {
		s.Status, s.Evidence = status.Skip, sv.Missing+": nothing to size it by"
		return s
	}
	if n == nil {
		s.Status, s.Evidence = status.Skip, "Nomad is not configured (NOMAD_ADDR): nothing to compare the VPA target with"
		return s
	}
	tasks, err := n.TaskResources(ctx, sv.Service)
	if err != nil {
		s.Status, s.Evidence = status.Skip, fmt.Sprintf("Nomad job %s: %v", sv.Service, err)
		return s
	}
	var waiting []string
	for _, c := range sv.Containers {
		t := matchTask(tasks, c.Container)
		if t == nil {
			continue // a sidecar Nomad has no task for: nothing to compare
		}
		if len(c.Target) == 0 {
			waiting = append(waiting, c.Container)
			continue
		}
		cpu, mem := c.Target[corev1.ResourceCPU], c.Target[corev1.ResourceMemory]
		row := Task{Group: t.Group, Task: t.Task, Container: c.Container,
			Nomad: Amount{CPUMHz: t.CPUMHz, MemoryMB: t.MemoryMB}, MemoryMaxMB: t.MemoryMaxMB,
			TargetCPU: cpu.String(), TargetMemory: mem.String(),
			Target: Amount{CPUMHz: CPUToMHz(cpu.MilliValue(), o.CoreMHz), MemoryMB: BytesToMB(mem.Value())}}
		row.Saving = Amount{CPUMHz: row.Nomad.CPUMHz - row.Target.CPUMHz, MemoryMB: row.Nomad.MemoryMB - row.Target.MemoryMB}
		s.Tasks = append(s.Tasks, row)
		s.Saving.CPUMHz += row.Saving.CPUMHz
		s.Saving.MemoryMB += row.Saving.MemoryMB
	}
	switch {
	case len(waiting) > 0:
		s.Status = status.Warn
		s.Evidence = fmt.Sprintf("VPA %s has no recommendation yet for %v: the recommender needs a few samples", sv.VPA, waiting)
		s.Tasks, s.Saving = nil, Amount{}
		return s
	case len(s.Tasks) == 0:
		s.Status, s.Evidence = status.Skip, fmt.Sprintf("no container of %s matches a task of Nomad job %s", sv.Workload, sv.Service)
		return s
	}
	s.Status = status.Pass
	s.Evidence = fmt.Sprintf("saving cpu %d MHz, memory %d MB against Nomad's reservation", s.Saving.CPUMHz, s.Saving.MemoryMB)
	if s.Where == "nomad" {
		s.JobspecDiff = JobspecDiff(sv.Service, s.Tasks)
	}
	return s
}

// matchTask pairs a container with its Nomad task as SC-002 does: by name,
// else the only task.
func matchTask(ts []checks.TaskResources, container string) *checks.TaskResources {
	for i := range ts {
		if ts[i].Task == container {
			return &ts[i]
		}
	}
	if len(ts) == 1 {
		return &ts[0]
	}
	return nil
}
