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
)

// NomadAPI adapts a github.com/hashicorp/nomad/api client to NomadReader.
type NomadAPI struct{ Client *nomadapi.Client }

func (n NomadAPI) q(ctx context.Context) *nomadapi.QueryOptions {
	return (&nomadapi.QueryOptions{}).WithContext(ctx)
}

// TaskResources implements NomadReader.
func (n NomadAPI) TaskResources(ctx context.Context, jobID string) ([]TaskResources, error) {
	job, _, err := n.Client.Jobs().Info(jobID, n.q(ctx))
	if err != nil {
		return nil, err
	}
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
	return out, nil
}

// NodeMemory implements NomadReader from /v1/client/stats and every running
// allocation's /v1/client/allocation/:id/stats.
func (n NomadAPI) NodeMemory(ctx context.Context) ([]NomadNodeMemory, error) {
	nodes, _, err := n.Client.Nodes().List(n.q(ctx))
	if err != nil {
		return nil, err
	}
	var out []NomadNodeMemory
	var errs []error
	for _, node := range nodes {
		if node.Status != "ready" {
			continue
		}
		hs, err := n.Client.Nodes().Stats(node.ID, n.q(ctx))
		if err != nil || hs.Memory == nil {
			errs = append(errs, fmt.Errorf("client stats of %s: %v", node.Name, err))
			continue
		}
		m := NomadNodeMemory{Node: node.Name, HostUsedMB: int64(hs.Memory.Used >> 20)}
		allocs, _, err := n.Client.Nodes().Allocations(node.ID, n.q(ctx))
		if err != nil {
			errs = append(errs, fmt.Errorf("allocations of %s: %v", node.Name, err))
			continue
		}
		var rss uint64
		for _, a := range allocs {
			if a.ClientStatus != nomadapi.AllocClientStatusRunning {
				continue
			}
			u, err := n.Client.Allocations().Stats(a, n.q(ctx))
			if err != nil || u.ResourceUsage == nil || u.ResourceUsage.MemoryStats == nil {
				continue
			}
			rss += u.ResourceUsage.MemoryStats.RSS
		}
		m.AllocsMB = int64(rss >> 20)
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
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
