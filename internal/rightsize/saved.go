package rightsize

import (
	"context"
	"encoding/json"
	"fmt"

	nomadapi "github.com/hashicorp/nomad/api"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/state"
)

// withCutovers reads a service's Nomad job under the name its cutover record
// gives, and falls back to the job spec the cutover saved: Nomad garbage-
// collects a stopped job (job_gc_threshold, 4 h by default), and a service
// that left Nomad still has a reservation to compare its VPA target with.
type withCutovers struct {
	n        Nomad // nil: only the saved specs
	cutovers map[string]state.Cutover
}

func (w withCutovers) TaskResources(ctx context.Context, service string) ([]checks.TaskResources, error) {
	c, saved := w.cutovers[service]
	job := service
	if saved && c.NomadJob != "" {
		job = c.NomadJob
	}
	var err error
	if w.n != nil {
		var ts []checks.TaskResources
		if ts, err = w.n.TaskResources(ctx, job); err == nil {
			return ts, nil
		}
	} else {
		err = fmt.Errorf("Nomad is not configured")
	}
	if !saved || len(c.JobSpec) == 0 {
		return nil, err
	}
	var spec nomadapi.Job
	if jerr := json.Unmarshal(c.JobSpec, &spec); jerr != nil {
		return nil, fmt.Errorf("%v; the job spec the cutover saved does not decode: %v", err, jerr)
	}
	return checks.JobTaskResources(&spec), nil
}
