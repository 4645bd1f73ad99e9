package nomadwatch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/nomad/api"
)

// BaselineVersion is the schema version of Baseline's JSON.
const BaselineVersion = 1

// Baseline is Nomad's health at one moment: every job, its task groups and
// its current allocations. It is stored in migrate-tui's state file and
// compared against later (Compare).
type Baseline struct {
	Version int        `json:"version"`
	TakenAt time.Time  `json:"takenAt"`
	Address string     `json:"address"`
	Jobs    []JobState `json:"jobs"` // sorted by namespace, then ID
}

// JobState is one job in a baseline.
type JobState struct {
	ID            string       `json:"id"`
	Namespace     string       `json:"namespace"`
	Type          string       `json:"type"`   // service, system, batch, sysbatch
	Status        string       `json:"status"` // pending, running, dead
	ParentID      string       `json:"parentID,omitempty"`
	Periodic      bool         `json:"periodic,omitempty"`
	Parameterized bool         `json:"parameterized,omitempty"`
	Stopped       bool         `json:"stopped,omitempty"`
	Groups        []GroupState `json:"groups"`
	Allocs        []AllocState `json:"allocs"`
}

// GroupState counts one task group's allocations.
type GroupState struct {
	Name string `json:"name"`
	// Desired is how many allocations Nomad wants: allocations it has not
	// told to stop (minus completed ones) plus those still queued.
	Desired int `json:"desired"`
	Running int `json:"running"`
	// Failed and Lost are Nomad's counters for the job's lifetime (the job
	// summary); they survive garbage collection of the allocations.
	Failed int `json:"failed"`
	Lost   int `json:"lost"`
}

// AllocState is one current allocation: one Nomad wants running, or one
// that failed or was lost (kept until Nomad garbage-collects it).
type AllocState struct {
	ID                string      `json:"id"`
	Group             string      `json:"group"`
	Node              string      `json:"node"`
	ClientStatus      string      `json:"clientStatus"` // pending, running, complete, failed, lost
	ClientDescription string      `json:"clientDescription,omitempty"`
	Healthy           *bool       `json:"healthy,omitempty"` // deployment health; nil when not part of a deployment
	Tasks             []TaskState `json:"tasks"`
}

// TaskState is one task of an allocation.
type TaskState struct {
	Name     string `json:"name"`
	State    string `json:"state"` // pending, running, dead
	Failed   bool   `json:"failed,omitempty"`
	Restarts uint64 `json:"restarts"`
	// ExitCode of the task's last exit, when it exited.
	ExitCode *int `json:"exitCode,omitempty"`
	// LastEvent is the last event's message ("Exit Code: 137, Exit Message: "OOM Killed"").
	LastEvent string `json:"lastEvent,omitempty"`
}

// Job finds a job by ID (any namespace; the first match).
func (b Baseline) Job(id string) (JobState, bool) {
	for _, j := range b.Jobs {
		if j.ID == id {
			return j, true
		}
	}
	return JobState{}, false
}

func (b Baseline) job(ns, id string) (JobState, bool) {
	for _, j := range b.Jobs {
		if j.ID == id && j.Namespace == ns {
			return j, true
		}
	}
	return JobState{}, false
}

// Running counts jobs running and allocations running.
func (b Baseline) Running() (jobs, allocs int) {
	for _, j := range b.Jobs {
		if j.Status == "running" && !j.Stopped {
			jobs++
		}
		for _, a := range j.Allocs {
			if a.ClientStatus == api.AllocClientStatusRunning {
				allocs++
			}
		}
	}
	return jobs, allocs
}

// String summarises the baseline in one line.
func (b Baseline) String() string {
	jobs, allocs := b.Running()
	return fmt.Sprintf("%d jobs (%d running, %d allocations running) at %s, taken %s",
		len(b.Jobs), jobs, allocs, b.Address, b.TakenAt.Format(time.RFC3339))
}

func (j JobState) alloc(id string) (AllocState, bool) {
	for _, a := range j.Allocs {
		if a.ID == id {
			return a, true
		}
	}
	return AllocState{}, false
}

func (j JobState) group(name string) (GroupState, bool) {
	for _, g := range j.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return GroupState{}, false
}

func (a AllocState) task(name string) (TaskState, bool) {
	for _, t := range a.Tasks {
		if t.Name == name {
			return t, true
		}
	}
	return TaskState{}, false
}

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
