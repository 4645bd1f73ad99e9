// Package nomadrecord holds what migrate-tui records about Nomad (the job
// baseline, the node inventory) and compares: plain data, no Nomad API, so
// the state file and the decisions that read it do not depend on Nomad's
// client (internal/nomadwatch takes these records from a live Nomad).
package nomadrecord

import (
	"fmt"
	"time"
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
			if a.ClientStatus == allocRunning {
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

// Nomad's status words the records hold (the values of the API's
// constants, kept here so the records need no Nomad client).
const (
	allocRunning = "running"
	allocFailed  = "failed"
	allocLost    = "lost"
	jobBatch     = "batch"
	jobSysbatch  = "sysbatch"
)
