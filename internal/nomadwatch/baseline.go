package nomadwatch

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/nomad/api"
)

// TakeBaseline reads every job and allocation (two requests, whatever the
// number of jobs).
func TakeBaseline(ctx context.Context, n Nomad) (Baseline, error) {
	return takeBaseline(ctx, n, time.Now)
}

func takeBaseline(ctx context.Context, n Nomad, now func() time.Time) (Baseline, error) {
	jobs, err := n.Jobs(ctx)
	if err != nil {
		return Baseline{}, err
	}
	allocs, err := n.Allocations(ctx)
	if err != nil {
		return Baseline{}, err
	}
	b := Baseline{Version: BaselineVersion, TakenAt: now().UTC(), Address: n.Address()}
	type key struct{ ns, id string }
	index := map[key]int{}
	for _, j := range jobs {
		js := JobState{
			ID:            j.ID,
			Namespace:     cmp.Or(j.Namespace, "default"),
			Type:          j.Type,
			Status:        j.Status,
			ParentID:      j.ParentID,
			Periodic:      j.Periodic,
			Parameterized: j.ParameterizedJob,
			Stopped:       j.Stop,
			Groups:        []GroupState{},
			Allocs:        []AllocState{},
		}
		if j.JobSummary != nil {
			for _, name := range sortedKeys(j.JobSummary.Summary) {
				s := j.JobSummary.Summary[name]
				js.Groups = append(js.Groups, GroupState{Name: name, Desired: s.Queued, Failed: s.Failed, Lost: s.Lost})
			}
		}
		index[key{js.Namespace, js.ID}] = len(b.Jobs)
		b.Jobs = append(b.Jobs, js)
	}
	for _, a := range allocs {
		i, ok := index[key{cmp.Or(a.Namespace, "default"), a.JobID}]
		bad := a.ClientStatus == api.AllocClientStatusFailed || a.ClientStatus == api.AllocClientStatusLost
		if !ok || (a.DesiredStatus != api.AllocDesiredStatusRun && !bad) {
			continue // an allocation of a purged job, or one stopped or replaced on purpose
		}
		js := &b.Jobs[i]
		as := AllocState{
			ID:                a.ID,
			Group:             a.TaskGroup,
			Node:              a.NodeName,
			ClientStatus:      a.ClientStatus,
			ClientDescription: a.ClientDescription,
			Tasks:             []TaskState{},
		}
		if a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil {
			as.Healthy = new(*a.DeploymentStatus.Healthy)
		}
		for _, name := range sortedKeys(a.TaskStates) {
			as.Tasks = append(as.Tasks, taskState(name, a.TaskStates[name]))
		}
		js.Allocs = append(js.Allocs, as)

		gi := slices.IndexFunc(js.Groups, func(g GroupState) bool { return g.Name == a.TaskGroup })
		if gi < 0 {
			js.Groups = append(js.Groups, GroupState{Name: a.TaskGroup})
			gi = len(js.Groups) - 1
		}
		if a.DesiredStatus == api.AllocDesiredStatusRun && a.ClientStatus != api.AllocClientStatusComplete {
			js.Groups[gi].Desired++
		}
		if a.ClientStatus == api.AllocClientStatusRunning {
			js.Groups[gi].Running++
		}
	}
	slices.SortFunc(b.Jobs, func(x, y JobState) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.ID, y.ID))
	})
	for i := range b.Jobs {
		slices.SortFunc(b.Jobs[i].Allocs, func(x, y AllocState) int {
			return cmp.Or(cmp.Compare(x.Group, y.Group), cmp.Compare(x.ID, y.ID))
		})
		slices.SortFunc(b.Jobs[i].Groups, func(x, y GroupState) int { return cmp.Compare(x.Name, y.Name) })
	}
	return b, nil
}

func taskState(name string, ts *api.TaskState) TaskState {
	out := TaskState{Name: name}
	if ts == nil {
		return out
	}
	out.State, out.Failed, out.Restarts = ts.State, ts.Failed, ts.Restarts
	for i := len(ts.Events) - 1; i >= 0; i-- {
		ev := ts.Events[i]
		if out.LastEvent == "" {
			out.LastEvent = cmp.Or(ev.DisplayMessage, ev.Message, ev.Type)
		}
		if ev.Type == api.TaskTerminated && out.ExitCode == nil {
			code := ev.ExitCode // deprecated field; Details carries it in current Nomad
			if v, err := strconv.Atoi(ev.Details["exit_code"]); err == nil {
				code = v
			}
			out.ExitCode = new(code)
			if ev.DisplayMessage != "" {
				out.LastEvent = ev.DisplayMessage // the exit says more than "Not Restarting"
			}
			break
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
