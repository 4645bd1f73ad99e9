package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"migrate-tui/internal/nomadwatch"
)

// NomadSource is what the Nomad adapter reads: nomadwatch's seam plus a
// job's definition. *nomadwatch.Client implements it.
type NomadSource interface {
	nomadwatch.Nomad
	Job(ctx context.Context, id string) (*nomadapi.Job, error)
}

// NomadWatch adapts internal/nomadwatch to NomadReader and, with a
// baseline, to NomadHealth.
type NomadWatch struct {
	N        NomadSource
	Baseline *nomadwatch.Baseline // the preflight baseline; nil: SC-005 has nothing to compare
}

// TaskResources implements NomadReader.
func (w NomadWatch) TaskResources(ctx context.Context, jobID string) ([]TaskResources, error) {
	job, err := w.N.Job(ctx, jobID)
	if err != nil {
		return nil, err
	}
	return JobTaskResources(job), nil
}

// JobTaskResources lists the resources each task of job declares (a job as
// Nomad returns it, or as a cutover saved it).
func JobTaskResources(job *nomadapi.Job) []TaskResources {
	var out []TaskResources
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			tr := TaskResources{Task: t.Name}
			if tg.Name != nil {
				tr.Group = *tg.Name
			}
			if r := t.Resources; r != nil {
				if r.CPU != nil {
					tr.CPUMHz = *r.CPU
				}
				if r.MemoryMB != nil {
					tr.MemoryMB = *r.MemoryMB
				}
				if r.MemoryMaxMB != nil {
					tr.MemoryMaxMB = *r.MemoryMaxMB
				}
			}
			out = append(out, tr)
		}
	}
	return out
}

// NodeMemory implements NomadReader with nomadwatch.NodeOverhead.
func (w NomadWatch) NodeMemory(ctx context.Context) ([]NomadNodeMemory, error) {
	ms, err := nomadwatch.NodeOverhead(ctx, w.N)
	if err != nil {
		return nil, err
	}
	var out []NomadNodeMemory
	for _, m := range ms {
		if m.Skipped != "" {
			continue
		}
		out = append(out, NomadNodeMemory{Node: m.Node, HostUsedMB: m.HostUsedMB, AllocsMB: m.AllocationsMB,
			HostCPUMHz: m.HostCPUMHz, AllocsCPUMHz: m.AllocationsCPUMHz})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// Compare implements NomadHealth: a fresh baseline against the stored one.
func (w NomadWatch) Compare(ctx context.Context) (int, time.Time, []string, error) {
	if w.Baseline == nil {
		return 0, time.Time{}, nil, errors.New("no baseline")
	}
	now, err := nomadwatch.TakeBaseline(ctx, w.N)
	if err != nil {
		return 0, time.Time{}, nil, err
	}
	var regs []string
	for _, r := range nomadwatch.Compare(*w.Baseline, now) {
		regs = append(regs, r.String())
	}
	return len(w.Baseline.Jobs), w.Baseline.TakenAt, regs, nil
}

// FileAssessments keeps the SC-007 answer in a small JSON file
// (.migrate-tui/assessment.json beside the state).
type FileAssessments struct{ Path string }

// Assessment implements Assessments.
func (f FileAssessments) Assessment(context.Context) (*Assessment, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var a Assessment
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return &a, nil
}

// Record stores an answer (yes, partly or no).
func (f FileAssessments) Record(answer, note string, at time.Time) error {
	switch answer {
	case "yes", "partly", "no":
	default:
		return fmt.Errorf("assessment %q: answer yes, partly or no", answer)
	}
	b, err := json.MarshalIndent(Assessment{Answer: answer, Note: note, RecordedAt: at.UTC()}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return err
	}
	tmp := f.Path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.Path)
}
