package nomadsim

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/nomad/api"
)

// The mutators below change the state the way a real cluster would change
// it, bump the index (waking blocking queries) and return an error naming
// what was missing when they cannot apply.

// liveAlloc is the first running allocation of a job. Callers hold s.mu.
func (s *Server) liveAlloc(jobID, task string) (*api.Allocation, error) {
	if _, ok := s.jobs[jobID]; !ok {
		return nil, fmt.Errorf("nomadsim: job %q not found (jobs: %v)", jobID, s.sortedJobIDs())
	}
	for _, a := range s.allocs {
		if a.JobID != jobID || a.DesiredStatus != api.AllocDesiredStatusRun || a.ClientStatus != api.AllocClientStatusRunning {
			continue
		}
		if task == "" {
			return a, nil
		}
		if ts, ok := a.TaskStates[task]; ok && ts.State == "running" {
			return a, nil
		}
	}
	if task != "" {
		return nil, fmt.Errorf("nomadsim: job %q has no running allocation with a running task %q", jobID, task)
	}
	return nil, fmt.Errorf("nomadsim: job %q has no running allocation", jobID)
}

// mainTask is the task a person would name the group after: the first one
// without a lifecycle hook.
func mainTask(a *api.Allocation) string {
	tg := a.Job.LookupTaskGroup(a.TaskGroup)
	if tg != nil {
		for _, t := range tg.Tasks {
			if t.Lifecycle == nil {
				return t.Name
			}
		}
		if len(tg.Tasks) > 0 {
			return tg.Tasks[0].Name
		}
	}
	return sortedKeys(a.TaskStates)[0]
}

func (s *Server) touch(a *api.Allocation) {
	a.ModifyIndex, a.AllocModifyIndex = s.index, s.index
	a.ModifyTime = s.now().UnixNano()
}

// FailAllocation fails the first running allocation of jobID: its main task
// exits 1 after one more restart and the allocation turns failed and
// unhealthy. Nomad would reschedule it later; the simulator does not, so the
// failure stays visible.
func (s *Server) FailAllocation(jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.liveAlloc(jobID, "")
	if err != nil {
		return err
	}
	s.failTask(a, mainTask(a), 1)
	return nil
}

// FailTask is FailAllocation for a chosen task and exit code (say the
// Litestream sidecar exiting 1).
func (s *Server) FailTask(jobID, task string, exitCode int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.liveAlloc(jobID, task)
	if err != nil {
		return err
	}
	s.failTask(a, task, exitCode)
	return nil
}

func (s *Server) failTask(a *api.Allocation, task string, exitCode int) {
	s.bump()
	t := s.now()
	code := fmt.Sprint(exitCode)
	ts := a.TaskStates[task]
	ts.Restarts++
	ts.LastRestart = t
	ts.State, ts.Failed, ts.FinishedAt = "dead", true, t
	ts.Events = append(ts.Events,
		&api.TaskEvent{Type: api.TaskTerminated, Time: t.UnixNano(), ExitCode: exitCode,
			DisplayMessage: "Exit Code: " + code, Details: map[string]string{"exit_code": code}},
		&api.TaskEvent{Type: api.TaskNotRestarting, Time: t.UnixNano(), FailsTask: true,
			DisplayMessage: "Exceeded allowed attempts 2 in interval 30m0s and mode is \"fail\""})
	for name, other := range a.TaskStates {
		if name != task && other.State == "running" {
			other.State, other.FinishedAt = "dead", t
			other.Events = append(other.Events, &api.TaskEvent{Type: api.TaskSiblingFailed, Time: t.UnixNano(),
				FailedSibling: task, DisplayMessage: "Task's sibling \"" + task + "\" failed"})
		}
	}
	a.ClientStatus = api.AllocClientStatusFailed
	a.ClientDescription = "Failed tasks"
	if a.DeploymentStatus != nil {
		a.DeploymentStatus.Healthy = new(false)
		a.DeploymentStatus.Timestamp = t
		a.DeploymentStatus.ModifyIndex = s.index
	}
	s.touch(a)
	s.dropServices(a.ID)
}

// RestartAllocation restarts the main task of jobID's first running
// allocation once; it comes back running.
func (s *Server) RestartAllocation(jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.liveAlloc(jobID, "")
	if err != nil {
		return err
	}
	s.restartTask(a, mainTask(a))
	return nil
}

// RestartTask restarts one named task of jobID once.
func (s *Server) RestartTask(jobID, task string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.liveAlloc(jobID, task)
	if err != nil {
		return err
	}
	s.restartTask(a, task)
	return nil
}

func (s *Server) restartTask(a *api.Allocation, task string) {
	s.bump()
	t := s.now()
	ts := a.TaskStates[task]
	ts.Restarts++
	ts.LastRestart = t
	ts.Events = append(ts.Events,
		&api.TaskEvent{Type: api.TaskTerminated, Time: t.UnixNano(), ExitCode: 137,
			DisplayMessage: "Exit Code: 137, Exit Message: \"OOM Killed\"", Details: map[string]string{"exit_code": "137", "oom_killed": "true"}},
		&api.TaskEvent{Type: api.TaskRestarting, Time: t.UnixNano(), RestartReason: api.AllocRestartReasonWithinPolicy,
			DisplayMessage: "Task restarting in 15s"},
		&api.TaskEvent{Type: api.TaskStarted, Time: t.Add(15 * time.Second).UnixNano(), DisplayMessage: "Task started by client"})
	s.touch(a)
}

// SetUnhealthy marks jobID's first running allocation unhealthy (a failing
// health check) while it keeps running.
func (s *Server) SetUnhealthy(jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.liveAlloc(jobID, "")
	if err != nil {
		return err
	}
	s.bump()
	a.DeploymentStatus = &api.AllocDeploymentStatus{Healthy: new(false), Timestamp: s.now(), ModifyIndex: s.index}
	s.touch(a)
	return nil
}

// StopJob stops jobID as `nomad job stop` does (no purge).
func (s *Server) StopJob(jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.deregister(jobID, false); err != nil {
		return fmt.Errorf("nomadsim: stop job %q: %w", jobID, err)
	}
	return nil
}

// SetNodeDown marks a node (by name) down; its live allocations are lost.
func (s *Server) SetNodeDown(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodeByName(name)
	if n == nil {
		return fmt.Errorf("nomadsim: node %q not found", name)
	}
	s.bump()
	n.Status, n.StatusDescription = "down", "node heartbeat missed"
	n.StatusUpdatedAt = s.now().Unix()
	n.ModifyIndex = s.index
	for _, a := range s.allocs {
		if a.NodeID != n.ID || terminal(a) {
			continue
		}
		a.DesiredStatus = api.AllocDesiredStatusStop
		a.DesiredDescription = "alloc is lost since its node is down"
		a.ClientStatus = api.AllocClientStatusLost
		a.ClientDescription = "alloc is lost since its node is down"
		s.touch(a)
		s.dropServices(a.ID)
	}
	return nil
}

// LaunchPeriodic runs a periodic job once, as its cron would: a child job
// "<id>/periodic-<unix>" whose allocations complete successfully. It returns
// the child's ID.
func (s *Server) LaunchPeriodic(jobID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.launchPeriodic(jobID)
}

func (s *Server) launchPeriodic(jobID string) (string, error) {
	parent, ok := s.jobs[jobID]
	if !ok || parent.Periodic == nil {
		return "", fmt.Errorf("nomadsim: %q is not a registered periodic job", jobID)
	}
	child := copyJob(parent)
	id := fmt.Sprintf("%s/periodic-%d", jobID, s.now().Unix())
	child.ID, child.Name, child.ParentID = new(id), new(id), new(jobID)
	child.Periodic = nil
	if _, err := s.register(child); err != nil {
		return "", err
	}
	return id, nil
}

// Jobs lists the IDs of registered jobs, sorted (handy in test messages).
func (s *Server) Jobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sortedJobIDs())
}
