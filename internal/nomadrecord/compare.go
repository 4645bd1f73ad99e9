package nomadrecord

import (
	"fmt"
	"strings"
)

// Kind says what sort of regression was found.
type Kind string

const (
	// KindJobMissing: a job that was running is no longer registered (purged).
	KindJobMissing Kind = "job-missing"
	// KindJobStopped: a job that was running has been stopped.
	KindJobStopped Kind = "job-stopped"
	// KindJobDead: a service or system job is dead though nobody stopped it.
	KindJobDead Kind = "job-dead"
	// KindGroupDegraded: fewer allocations of a task group run than did.
	KindGroupDegraded Kind = "group-degraded"
	// KindAllocFailed: an allocation failed after the baseline.
	KindAllocFailed Kind = "alloc-failed"
	// KindAllocLost: an allocation was lost (its node went down).
	KindAllocLost Kind = "alloc-lost"
	// KindAllocUnhealthy: an allocation runs but its deployment health turned false.
	KindAllocUnhealthy Kind = "alloc-unhealthy"
	// KindTaskRestarted: a task restarted since the baseline.
	KindTaskRestarted Kind = "task-restarted"
	// KindFailedCount: Nomad counts more failed or lost allocations for a
	// group than at the baseline, with no current allocation showing it
	// (already garbage-collected or replaced).
	KindFailedCount Kind = "failed-count"
)

// Regression is one way Nomad is worse than at the baseline.
type Regression struct {
	Kind    Kind   `json:"kind"`
	Job     string `json:"job"`
	Group   string `json:"group,omitempty"`
	Alloc   string `json:"alloc,omitempty"` // full allocation ID
	Task    string `json:"task,omitempty"`
	Message string `json:"message"` // a sentence saying what changed
}

func (r Regression) String() string { return r.Message }

// Compare lists what got worse between two baselines of the same Nomad:
// jobs stopped or gone, allocations failed, lost or unhealthy, tasks
// restarted, groups running fewer allocations. Things that are expected to
// come and go are not regressions: periodic and dispatched child jobs (only
// a failed run is), finished batch jobs, jobs added after the baseline.
// Each finding is reported once, at the most specific level.
func Compare(before, after Baseline) []Regression {
	var out []Regression
	for _, jb := range before.Jobs {
		ja, ok := after.job(jb.Namespace, jb.ID)
		if jb.ParentID != "" {
			if ok {
				out = append(out, compareAllocs(jb, ja, false)...)
			}
			continue
		}
		if !ok {
			if isLive(jb) {
				out = append(out, Regression{Kind: KindJobMissing, Job: jb.ID,
					Message: fmt.Sprintf("job %s: no longer registered in Nomad (was %s at the baseline); it was stopped and purged", jb.ID, jb.Status)})
			}
			continue
		}
		if isLive(jb) && ja.Stopped {
			out = append(out, Regression{Kind: KindJobStopped, Job: jb.ID,
				Message: fmt.Sprintf("job %s: stopped after the baseline (was %s); run it again with nomad job run, or revert what stopped it", jb.ID, jb.Status)})
			continue
		}
		if jb.Periodic || jb.Parameterized {
			continue // a parent has no allocations; its children are checked as they appear
		}
		batch := jb.Type == jobBatch || jb.Type == jobSysbatch
		found := compareAllocs(jb, ja, !batch)
		if !batch {
			found = append(found, compareGroups(jb, ja, found)...)
			if len(found) == 0 && jb.Status == "running" && ja.Status == "dead" {
				found = append(found, Regression{Kind: KindJobDead, Job: jb.ID,
					Message: fmt.Sprintf("job %s: dead after the baseline (was running) with no allocation running", jb.ID)})
			}
		}
		out = append(out, found...)
	}
	// Runs of periodic or dispatched jobs that started after the baseline.
	for _, ja := range after.Jobs {
		if ja.ParentID == "" {
			continue
		}
		if _, ok := before.job(ja.Namespace, ja.ID); ok {
			continue
		}
		out = append(out, compareAllocs(JobState{ID: ja.ID, Namespace: ja.Namespace}, ja, false)...)
	}
	return out
}

// isLive: the job was meant to be running at the baseline.
func isLive(j JobState) bool {
	if j.Stopped || j.ParentID != "" {
		return false
	}
	if j.Type == jobBatch || j.Type == jobSysbatch {
		return j.Periodic || j.Parameterized // a finished one-off batch job may be garbage-collected
	}
	return true
}

// compareAllocs looks at every allocation of the job after the baseline.
// withRunning adds restarts and health of allocations still running (not
// meaningful for batch runs).
func compareAllocs(jb, ja JobState, withRunning bool) []Regression {
	var out []Regression
	for _, aa := range ja.Allocs {
		ab, existed := jb.alloc(aa.ID)
		was := "was " + ab.ClientStatus
		when := "after the baseline (" + was + ")"
		if !existed {
			when = "after the baseline (a new allocation)"
		}
		switch aa.ClientStatus {
		case allocFailed:
			if existed && ab.ClientStatus == allocFailed {
				continue
			}
			out = append(out, Regression{Kind: KindAllocFailed, Job: ja.ID, Group: aa.Group, Alloc: aa.ID,
				Task:    failedTaskNames(aa),
				Message: fmt.Sprintf("job %s: allocation %s on %s failed (%s) %s", ja.ID, short(aa.ID), aa.Node, failure(aa, ab), when)})
			continue
		case allocLost:
			if existed && ab.ClientStatus == allocLost {
				continue
			}
			out = append(out, Regression{Kind: KindAllocLost, Job: ja.ID, Group: aa.Group, Alloc: aa.ID,
				Message: fmt.Sprintf("job %s: allocation %s on %s lost (%s) %s", ja.ID, short(aa.ID), aa.Node,
					cmpOr(aa.ClientDescription, "its node stopped reporting"), when)})
			continue
		}
		if !withRunning || aa.ClientStatus != allocRunning {
			continue
		}
		if aa.Healthy != nil && !*aa.Healthy && (!existed || ab.Healthy == nil || *ab.Healthy) {
			out = append(out, Regression{Kind: KindAllocUnhealthy, Job: ja.ID, Group: aa.Group, Alloc: aa.ID,
				Message: fmt.Sprintf("job %s: allocation %s on %s is unhealthy %s; its health checks are failing", ja.ID, short(aa.ID), aa.Node,
					strings.Replace(when, "(was running)", "(was healthy)", 1))})
		}
		for _, ta := range aa.Tasks {
			tb, _ := ab.task(ta.Name) // a new allocation or task starts from zero
			if ta.Restarts <= tb.Restarts {
				continue
			}
			n := ta.Restarts - tb.Restarts
			msg := fmt.Sprintf("job %s: task %s in allocation %s on %s restarted %d %s since the baseline (restarts %d → %d)",
				ja.ID, ta.Name, short(aa.ID), aa.Node, n, plural(n, "time", "times"), tb.Restarts, ta.Restarts)
			if ta.LastEvent != "" {
				msg += "; last exit: " + ta.LastEvent
			}
			out = append(out, Regression{Kind: KindTaskRestarted, Job: ja.ID, Group: aa.Group, Alloc: aa.ID, Task: ta.Name, Message: msg})
		}
	}
	return out
}

// compareGroups reports groups running fewer allocations, unless the
// allocation-level findings already account for it.
func compareGroups(jb, ja JobState, found []Regression) []Regression {
	var out []Regression
	for _, gb := range jb.Groups {
		ga, _ := ja.group(gb.Name)
		explained := 0
		for _, r := range found {
			if r.Group != gb.Name || (r.Kind != KindAllocFailed && r.Kind != KindAllocLost) {
				continue
			}
			if ab, ok := jb.alloc(r.Alloc); ok && ab.ClientStatus == allocRunning {
				explained++
			}
		}
		if drop := gb.Running - ga.Running; drop > explained {
			out = append(out, Regression{Kind: KindGroupDegraded, Job: jb.ID, Group: gb.Name,
				Message: fmt.Sprintf("job %s: group %s runs %d of %d allocations (was %d of %d at the baseline)",
					jb.ID, gb.Name, ga.Running, ga.Desired, gb.Running, gb.Desired)})
		}
		failedBefore, failedAfter := gb.Failed+gb.Lost, ga.Failed+ga.Lost
		if failedAfter > failedBefore && explained == 0 && !hasAllocFinding(found, gb.Name) {
			out = append(out, Regression{Kind: KindFailedCount, Job: jb.ID, Group: gb.Name,
				Message: fmt.Sprintf("job %s: group %s has %d failed or lost allocations, %d more than at the baseline (see nomad job status %s)",
					jb.ID, gb.Name, failedAfter, failedAfter-failedBefore, jb.ID)})
		}
	}
	return out
}

func hasAllocFinding(found []Regression, group string) bool {
	for _, r := range found {
		if r.Group == group && (r.Kind == KindAllocFailed || r.Kind == KindAllocLost) {
			return true
		}
	}
	return false
}

// failure says which tasks failed and how: "task litestream exited 1".
func failure(aa, ab AllocState) string {
	var parts []string
	for _, t := range aa.Tasks {
		if !t.Failed {
			continue
		}
		if tb, ok := ab.task(t.Name); ok && tb.Failed {
			continue
		}
		switch {
		case t.ExitCode != nil:
			parts = append(parts, fmt.Sprintf("task %s exited %d", t.Name, *t.ExitCode))
		case t.LastEvent != "":
			parts = append(parts, fmt.Sprintf("task %s failed: %s", t.Name, t.LastEvent))
		default:
			parts = append(parts, fmt.Sprintf("task %s failed", t.Name))
		}
	}
	if len(parts) == 0 {
		return cmpOr(aa.ClientDescription, "no task reported why")
	}
	return strings.Join(parts, ", ")
}

func failedTaskNames(a AllocState) string {
	var names []string
	for _, t := range a.Tasks {
		if t.Failed {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ",")
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// short is an ID's first 8 characters, as Nomad's CLI prints it.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
