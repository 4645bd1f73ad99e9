package cutover

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/nomadwatch"
)

// SaveSpec reads the job's full spec as Nomad holds it, as JSON for the
// state. The spec is never printed: template text can be sensitive.
func SaveSpec(ctx context.Context, n Nomad, t Target) (json.RawMessage, error) {
	job, err := n.ReadJob(ctx, t.ns(), t.job())
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("encode Nomad job %s: %w", t.job(), err)
	}
	return b, nil
}

// StopJob stops the job (no purge: nomad job status still shows it and
// its history) and waits until none of its allocations runs.
func StopJob(ctx context.Context, n Nomad, t Target) (string, error) {
	if err := n.Stop(ctx, t.ns(), t.job()); err != nil {
		return "", err
	}
	var index uint64
	for {
		faultpoint.HitCtx(ctx, faultpoint.CutoverStopWait)
		allocs, idx, err := n.JobAllocs(ctx, t.ns(), t.job(), index)
		if err != nil {
			return "", err
		}
		var live []string
		for _, a := range allocs {
			if a.ClientStatus == api.AllocClientStatusRunning || a.ClientStatus == api.AllocClientStatusPending {
				live = append(live, short(a.ID)+" on "+a.NodeName)
			}
		}
		if len(live) == 0 {
			return fmt.Sprintf("Nomad job %s stopped (not purged); %d allocations stopped", t.job(), len(allocs)), nil
		}
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("waiting for Nomad job %s to stop: still running %s: %w", t.job(), strings.Join(live, ", "), err)
		}
		index = max(idx, index+1)
	}
}

// Guard compares Nomad now with the baseline, leaving out the jobs cut
// over (they left on purpose): every other job must be as healthy as it was.
func Guard(ctx context.Context, n nomadwatch.Nomad, base nomadwatch.Baseline, exclude ...Target) ([]nomadwatch.Regression, error) {
	now, err := nomadwatch.TakeBaseline(ctx, n)
	if err != nil {
		return nil, err
	}
	drop := func(ns, id string) bool {
		for _, t := range exclude {
			if id == t.job() && ns == t.ns() {
				return true
			}
		}
		return false
	}
	filter := func(b nomadwatch.Baseline) nomadwatch.Baseline {
		out := b
		out.Jobs = nil
		for _, j := range b.Jobs {
			if !drop(j.Namespace, j.ID) {
				out.Jobs = append(out.Jobs, j)
			}
		}
		return out
	}
	return nomadwatch.Compare(filter(base), filter(now)), nil
}

// Reregister registers the saved spec again and waits until its
// allocations run healthy (blocking queries; ctx bounds the wait).
func Reregister(ctx context.Context, n Nomad, spec json.RawMessage, jobModifyIndex uint64) (string, error) {
	var job api.Job
	if err := json.Unmarshal(spec, &job); err != nil {
		return "", fmt.Errorf("the saved Nomad job spec in the state cannot be read (%v); register the job from its module (modules/<service>) with terraform apply instead", err)
	}
	t := Target{NomadJob: deref(job.ID), Namespace: deref(job.Namespace)}
	// Nomad owns these; a registration carries the spec only.
	job.Stop, job.Status, job.StatusDescription = nil, nil, nil
	job.Version, job.CreateIndex, job.ModifyIndex, job.JobModifyIndex, job.SubmitTime, job.Stable = nil, nil, nil, nil, nil, nil
	if err := n.Register(ctx, &job, jobModifyIndex); err != nil {
		return "", err
	}
	faultpoint.Hit(faultpoint.RollbackAfterRegister)
	return waitRunning(ctx, n, t, wantAllocs(&job), "registered again from the saved spec")
}

// wantAllocs is how many allocations the job's task groups ask for.
func wantAllocs(job *api.Job) int {
	want := 0
	for _, tg := range job.TaskGroups {
		want += deref(tg.Count)
	}
	return want
}

// waitRunning waits until want allocations of the job run healthy.
func waitRunning(ctx context.Context, n Nomad, t Target, want int, what string) (string, error) {
	var index uint64
	for {
		allocs, idx, err := n.JobAllocs(ctx, t.ns(), t.job(), index)
		if err != nil {
			return "", err
		}
		running, problems := allocHealth(allocs)
		if running >= want && len(problems) == 0 {
			return fmt.Sprintf("Nomad job %s %s; %d allocations running and healthy", t.job(), what, running), nil
		}
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("waiting for Nomad job %s to run again: %d of %d allocations running healthy (%s): %w; nomad job status %s says why",
				t.job(), running, want, strings.Join(problems, "; "), err, t.job())
		}
		index = max(idx, index+1)
	}
}

// Routing is the external Traefik change a cutover needs. Traefik on
// Hestia routes from Consul catalog tags, which migrate-tui does not own.
type Routing struct {
	Service  string
	Host     string   // whoami.brmartin.co.uk
	Backends []string // the K3s Traefik: node:https-port
}

// ToKubernetes is the change that switches the host to Kubernetes, made
// before the Nomad job stops (so the host never goes unrouted).
func (r Routing) ToKubernetes() string {
	var servers strings.Builder
	for _, b := range r.Backends {
		fmt.Fprintf(&servers, "          - url: https://%s\n", b)
	}
	return fmt.Sprintf(`The external Traefik (Docker on Hestia) routes %[2]s from Consul catalog tags.
Add this to Traefik's file provider (dynamic configuration) so %[2]s goes to
the K3s Traefik; its priority wins over the catalog's router while the Nomad
job still runs (the next step stops it):

http:
  routers:
    %[1]s-k8s:
      rule: Host(`+"`%[2]s`"+`)
      priority: 10000
      entryPoints: [websecure]
      service: %[1]s-k8s
      tls: {}
  services:
    %[1]s-k8s:
      loadBalancer:
        passHostHeader: true
        serversTransport: k3s-traefik
        servers:
%[3]s  serversTransports:
    k3s-traefik:
      serverName: %[2]s

Then check https://%[2]s answers from Kubernetes (curl -sI https://%[2]s).
`, r.Service, r.Host, servers.String())
}

// BackToNomad is the change that undoes ToKubernetes.
func (r Routing) BackToNomad() string {
	return fmt.Sprintf(`Remove the router and service %[1]s-k8s from the external Traefik's file provider:
the Nomad job runs with its Consul service and traefik.* tags, and Traefik
routes %[2]s to Nomad from the catalog again.
`, r.Service, r.Host)
}
