package nomadsim

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
)

// simVersion is the Nomad version the simulator claims to be.
const simVersion = "1.10.5"

// AgentMemoryMiB is what the simulator reports, per node, as host memory in
// use beyond the allocations: the Nomad client (about 95 MiB) plus the
// Consul agent (about 70 MiB), close to the ~160 MB measured in the
// operator's PoC. It attributes nothing to the operating system, so
// "host used minus allocations" on the simulator is exactly the agents'.
const AgentMemoryMiB = 165

// AgentCPUMHz is what the simulator reports, per node, as host CPU consumed
// outside allocations: the Nomad and Consul agents' share, so the go/no-go
// CPU comparison has a Nomad side to set K3s against.
const AgentCPUMHz = 40

const mib = 1024 * 1024

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// detID is a UUID-shaped ID derived from its inputs, so a seeded server
// always has the same IDs (stable golden files in other packages).
func detID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	h := fmt.Sprintf("%x", sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// nextID gives a fresh deterministic ID. Callers hold s.mu.
func (s *Server) nextID(kind string) string {
	s.seq++
	return detID(kind, fmt.Sprint(s.seq))
}

func decodeJSON(r *http.Request, out any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("failed to decode request body: %w", err)
	}
	return nil
}

func copyJob(j *api.Job) *api.Job {
	b, err := json.Marshal(j)
	if err != nil {
		panic(err) // api.Job always encodes
	}
	var out api.Job
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return &out
}

// now is the clock for new state: a fixed time while seeding (stable
// output), Options.Now afterwards.
func (s *Server) now() time.Time {
	if s.seeding {
		return seedTime.Add(time.Duration(s.seq) * time.Second)
	}
	return s.opts.Now()
}

var seedTime = time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC)

func constraintHolds(c *api.Constraint, n *api.Node) bool {
	var l string
	switch {
	case c.LTarget == "${node.unique.name}":
		l = n.Name
	case c.LTarget == "${node.datacenter}":
		l = n.Datacenter
	case strings.HasPrefix(c.LTarget, "${attr.") && strings.HasSuffix(c.LTarget, "}"):
		l = n.Attributes[strings.TrimSuffix(strings.TrimPrefix(c.LTarget, "${attr."), "}")]
	case strings.HasPrefix(c.LTarget, "${meta.") && strings.HasSuffix(c.LTarget, "}"):
		l = n.Meta[strings.TrimSuffix(strings.TrimPrefix(c.LTarget, "${meta."), "}")]
	default:
		return true // constraints the simulator does not model never block placement
	}
	switch c.Operand {
	case "", "=", "==", "is":
		return l == c.RTarget
	case "!=", "not":
		return l != c.RTarget
	case "regexp":
		ok, err := regexp.MatchString(c.RTarget, l)
		return err == nil && ok
	default:
		return true
	}
}

func (s *Server) feasibleNodes(j *api.Job, tg *api.TaskGroup) []*api.Node {
	var out []*api.Node
	for _, n := range s.nodes {
		if n.Status != "ready" || n.SchedulingEligibility != "eligible" {
			continue
		}
		if len(j.Datacenters) > 0 && !slices.Contains(j.Datacenters, "*") && !slices.Contains(j.Datacenters, n.Datacenter) {
			continue
		}
		ok := true
		for _, c := range slices.Concat(j.Constraints, tg.Constraints) {
			ok = ok && constraintHolds(c, n)
		}
		for _, t := range tg.Tasks {
			for _, c := range t.Constraints {
				ok = ok && constraintHolds(c, n)
			}
		}
		if ok {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b *api.Node) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// register stores a job and places its allocations the way a healthy
// cluster would end up: service and system allocations running and healthy
// behind a successful deployment, batch allocations complete, periodic and
// parameterized parents with none. Callers hold s.mu.
func (s *Server) register(job *api.Job) (*api.JobRegisterResponse, error) {
	job.Canonicalize()
	if *job.ID == "" {
		return nil, badRequest("Missing job ID")
	}
	if len(job.TaskGroups) == 0 {
		return nil, badRequest("Missing job task groups")
	}
	idx := s.bump()
	id := *job.ID
	job.Version = new(uint64(0))
	job.CreateIndex = new(idx)
	if prev, ok := s.jobs[id]; ok && *prev.Namespace == *job.Namespace {
		job.Version = new(*prev.Version + 1)
		job.CreateIndex = prev.CreateIndex
		s.stopAllocs(id, "alloc not needed due to job update")
	}
	job.Stop = new(false)
	job.ModifyIndex = new(idx)
	job.JobModifyIndex = new(idx)
	job.SubmitTime = new(s.now().UnixNano())
	job.Stable = new(true)
	s.jobs[id] = job

	evalID := s.nextID("eval")
	switch {
	case job.Periodic != nil || job.ParameterizedJob != nil:
		job.Status = new("running")
	default:
		s.place(job, evalID, idx)
	}
	return &api.JobRegisterResponse{EvalID: evalID, EvalCreateIndex: idx, JobModifyIndex: idx}, nil
}

func (s *Server) place(job *api.Job, evalID string, idx uint64) {
	typ := *job.Type
	snapshot := copyJob(job)
	var deploy *api.Deployment
	if typ == api.JobTypeService {
		deploy = &api.Deployment{
			ID:                s.nextID("deployment"),
			Namespace:         *job.Namespace,
			JobID:             *job.ID,
			JobVersion:        *job.Version,
			JobModifyIndex:    idx,
			JobCreateIndex:    *job.CreateIndex,
			TaskGroups:        map[string]*api.DeploymentState{},
			Status:            "successful",
			StatusDescription: "Deployment completed successfully",
			CreateIndex:       idx,
			ModifyIndex:       idx,
		}
	}
	queued := false
	for gi, tg := range job.TaskGroups {
		nodes := s.feasibleNodes(job, tg)
		var targets []*api.Node
		if typ == api.JobTypeSystem || typ == api.JobTypeSysbatch {
			targets = nodes
		} else if len(nodes) > 0 {
			for i := range deref(tg.Count) {
				targets = append(targets, nodes[(gi+i)%len(nodes)])
			}
		}
		if len(targets) < deref(tg.Count) && typ != api.JobTypeSystem && typ != api.JobTypeSysbatch {
			queued = true
		}
		for i, n := range targets {
			a := s.newAlloc(snapshot, tg, i, n, evalID, idx)
			if deploy != nil {
				a.DeploymentID = deploy.ID
			}
			s.allocs = append(s.allocs, a)
			s.registerServices(job, tg, a, n, idx)
		}
		if deploy != nil {
			deploy.TaskGroups[*tg.Name] = &api.DeploymentState{
				DesiredTotal:  deref(tg.Count),
				PlacedAllocs:  len(targets),
				HealthyAllocs: len(targets),
			}
		}
	}
	if deploy != nil {
		if queued {
			deploy.Status, deploy.StatusDescription = "running", "Deployment is running"
		}
		s.deploys = append(s.deploys, deploy)
	}
	switch {
	case typ == api.JobTypeBatch || typ == api.JobTypeSysbatch:
		job.Status = new("dead")
	case queued:
		job.Status = new("pending")
	default:
		job.Status = new("running")
	}
}

func isPrestartJob(t *api.Task) bool {
	return t.Lifecycle != nil && t.Lifecycle.Hook == api.TaskLifecycleHookPrestart && !t.Lifecycle.Sidecar
}

func (s *Server) newAlloc(job *api.Job, tg *api.TaskGroup, i int, n *api.Node, evalID string, idx uint64) *api.Allocation {
	t := s.now()
	batch := *job.Type == api.JobTypeBatch || *job.Type == api.JobTypeSysbatch
	a := &api.Allocation{
		ID:            s.nextID("alloc"),
		Namespace:     *job.Namespace,
		EvalID:        evalID,
		Name:          fmt.Sprintf("%s.%s[%d]", *job.ID, *tg.Name, i),
		NodeID:        n.ID,
		NodeName:      n.Name,
		JobID:         *job.ID,
		Job:           job,
		TaskGroup:     *tg.Name,
		DesiredStatus: api.AllocDesiredStatusRun,
		ClientStatus:  api.AllocClientStatusRunning,
		TaskStates:    map[string]*api.TaskState{},
		AllocatedResources: &api.AllocatedResources{
			Tasks: map[string]*api.AllocatedTaskResources{},
		},
		CreateIndex:      idx,
		ModifyIndex:      idx,
		AllocModifyIndex: idx,
		CreateTime:       t.UnixNano(),
		ModifyTime:       t.UnixNano(),
	}
	if tg.EphemeralDisk != nil {
		a.AllocatedResources.Shared.DiskMB = int64(deref(tg.EphemeralDisk.SizeMB))
	}
	for _, task := range tg.Tasks {
		res := task.Resources
		if res == nil {
			res = &api.Resources{}
		}
		a.AllocatedResources.Tasks[task.Name] = &api.AllocatedTaskResources{
			Cpu:    api.AllocatedCpuResources{CpuShares: int64(deref(res.CPU))},
			Memory: api.AllocatedMemoryResources{MemoryMB: int64(deref(res.MemoryMB)), MemoryMaxMB: int64(deref(res.MemoryMaxMB))},
		}
		ts := &api.TaskState{
			State:     "running",
			StartedAt: t,
			Events: []*api.TaskEvent{
				{Type: api.TaskReceived, Time: t.UnixNano(), DisplayMessage: "Task received by client"},
				{Type: api.TaskSetup, Time: t.UnixNano(), DisplayMessage: "Building Task Directory"},
				{Type: api.TaskStarted, Time: t.UnixNano(), DisplayMessage: "Task started by client"},
			},
		}
		if batch || isPrestartJob(task) {
			ts.State = "dead"
			ts.FinishedAt = t.Add(5 * time.Second)
			ts.Events = append(ts.Events, &api.TaskEvent{
				Type: api.TaskTerminated, Time: ts.FinishedAt.UnixNano(),
				DisplayMessage: "Exit Code: 0", Details: map[string]string{"exit_code": "0"},
			})
		}
		a.TaskStates[task.Name] = ts
	}
	if batch {
		a.ClientStatus = api.AllocClientStatusComplete
		a.ClientDescription = "All tasks have completed"
	} else {
		a.ClientDescription = "Tasks are running"
		a.DeploymentStatus = &api.AllocDeploymentStatus{Healthy: new(true), Timestamp: t.Add(10 * time.Second), ModifyIndex: idx}
	}
	return a
}

func (s *Server) registerServices(job *api.Job, tg *api.TaskGroup, a *api.Allocation, n *api.Node, idx uint64) {
	if a.ClientStatus != api.AllocClientStatusRunning {
		return
	}
	svcs := slices.Clone(tg.Services)
	for _, t := range tg.Tasks {
		svcs = append(svcs, t.Services...)
	}
	for i, svc := range svcs {
		if svc.Provider != "nomad" {
			continue // Consul's catalog holds these; Nomad's /v1/services does not
		}
		port := 20000 + int(sha256.Sum256([]byte(a.ID + svc.Name))[0])*40 + i
		s.svcs = append(s.svcs, &api.ServiceRegistration{
			ID:          fmt.Sprintf("_nomad-task-%s-group-%s-%s-%s", a.ID, *tg.Name, svc.Name, svc.PortLabel),
			ServiceName: svc.Name,
			Namespace:   *job.Namespace,
			NodeID:      n.ID,
			Datacenter:  n.Datacenter,
			JobID:       *job.ID,
			AllocID:     a.ID,
			Tags:        svc.Tags,
			Address:     n.Attributes["unique.network.ip-address"],
			Port:        port,
			CreateIndex: idx,
			ModifyIndex: idx,
		})
	}
}

func (s *Server) dropServices(allocID string) {
	s.svcs = slices.DeleteFunc(s.svcs, func(r *api.ServiceRegistration) bool { return r.AllocID == allocID })
}

func terminal(a *api.Allocation) bool {
	switch a.ClientStatus {
	case api.AllocClientStatusComplete, api.AllocClientStatusFailed, api.AllocClientStatusLost:
		return true
	}
	return false
}

// stopAllocs stops every live allocation of a job. Callers hold s.mu and
// have bumped the index.
func (s *Server) stopAllocs(jobID, why string) {
	t := s.now()
	for _, a := range s.allocs {
		if a.JobID != jobID || a.DesiredStatus != api.AllocDesiredStatusRun {
			continue
		}
		a.DesiredStatus = api.AllocDesiredStatusStop
		a.DesiredDescription = why
		if !terminal(a) {
			a.ClientStatus = api.AllocClientStatusComplete
			a.ClientDescription = "All tasks have completed"
			for _, ts := range a.TaskStates {
				if ts.State != "dead" {
					ts.State = "dead"
					ts.FinishedAt = t
					ts.Events = append(ts.Events,
						&api.TaskEvent{Type: api.TaskKilling, Time: t.UnixNano(), DisplayMessage: "Sent interrupt. Waiting 5s before force killing"},
						&api.TaskEvent{Type: api.TaskKilled, Time: t.UnixNano(), DisplayMessage: "Task successfully killed"})
				}
			}
		}
		a.ModifyIndex, a.AllocModifyIndex, a.ModifyTime = s.index, s.index, t.UnixNano()
		s.dropServices(a.ID)
	}
	for _, d := range s.deploys {
		if d.JobID == jobID && d.Status == "running" {
			d.Status, d.StatusDescription, d.ModifyIndex = "cancelled", "Cancelled because job is stopped", s.index
		}
	}
}

func (s *Server) deregister(jobID string, purge bool) (*api.JobDeregisterResponse, error) {
	j, ok := s.jobs[jobID]
	if !ok {
		return nil, notFound("job not found")
	}
	idx := s.bump()
	j.Stop = new(true)
	j.Status = new("dead")
	j.ModifyIndex, j.JobModifyIndex = new(idx), new(idx)
	s.stopAllocs(jobID, "alloc not needed since job is stopped")
	if purge {
		delete(s.jobs, jobID)
	}
	return &api.JobDeregisterResponse{EvalID: s.nextID("eval"), EvalCreateIndex: idx, JobModifyIndex: idx}, nil
}

// hostStats is what a client reports for its host: memory used is the
// running allocations' usage plus the agents' (AgentMemoryMiB, AgentCPUMHz).
func (s *Server) hostStats(n *api.Node) *api.HostStats {
	total := uint64(n.NodeResources.Memory.MemoryMB) * mib
	used := uint64(AgentMemoryMiB) * mib
	ticks := float64(AgentCPUMHz)
	for _, a := range s.allocs {
		if a.NodeID == n.ID && a.ClientStatus == api.AllocClientStatusRunning {
			u := s.allocUsage(a).ResourceUsage
			used += u.MemoryStats.RSS
			ticks += u.CpuStats.TotalTicks
		}
	}
	hs := &api.HostStats{
		Memory: &api.HostMemoryStats{Total: total, Used: used, Available: total - used, Free: total - used},
		DiskStats: []*api.HostDiskStats{{
			Device: "/dev/root", Mountpoint: "/", Size: 256 << 30, Used: 64 << 30, Available: 192 << 30, UsedPercent: 25,
		}},
		AllocDirStats:    &api.HostDiskStats{Device: "/dev/root", Mountpoint: "/opt/nomad/data/alloc", Size: 256 << 30, Used: 64 << 30, Available: 192 << 30, UsedPercent: 25},
		Uptime:           14 * 24 * 3600,
		CPUTicksConsumed: ticks,
	}
	for i := range int(n.NodeResources.Cpu.TotalCpuCores) {
		hs.CPU = append(hs.CPU, &api.HostCPUStats{CPU: fmt.Sprintf("cpu%d", i), User: 4, System: 2, Idle: 94})
	}
	return hs
}

// allocUsage makes up plausible usage: each running task uses 55% of its
// memory reservation and 20% of its CPU.
func (s *Server) allocUsage(a *api.Allocation) *api.AllocResourceUsage {
	ts := s.opts.Now().UnixNano()
	total := &api.ResourceUsage{MemoryStats: &api.MemoryStats{Measured: []string{"RSS", "Cache", "Usage", "Max Usage"}}, CpuStats: &api.CpuStats{Measured: []string{"System Mode", "User Mode", "Percent"}}}
	out := &api.AllocResourceUsage{ResourceUsage: total, Tasks: map[string]*api.TaskResourceUsage{}, Timestamp: ts}
	for _, name := range sortedKeys(a.TaskStates) {
		if a.TaskStates[name].State != "running" {
			continue
		}
		res := a.AllocatedResources.Tasks[name]
		rss := uint64(res.Memory.MemoryMB) * mib * 55 / 100
		mhz := float64(res.Cpu.CpuShares) * 0.2
		u := &api.ResourceUsage{
			MemoryStats: &api.MemoryStats{RSS: rss, Cache: rss / 10, Usage: rss + rss/10, MaxUsage: rss + rss/5, Measured: total.MemoryStats.Measured},
			CpuStats:    &api.CpuStats{UserMode: 15, SystemMode: 5, TotalTicks: mhz, Percent: 20, Measured: total.CpuStats.Measured},
		}
		out.Tasks[name] = &api.TaskResourceUsage{ResourceUsage: u, Timestamp: ts}
		total.MemoryStats.RSS += u.MemoryStats.RSS
		total.MemoryStats.Cache += u.MemoryStats.Cache
		total.MemoryStats.Usage += u.MemoryStats.Usage
		total.MemoryStats.MaxUsage += u.MemoryStats.MaxUsage
		total.CpuStats.TotalTicks += u.CpuStats.TotalTicks
		total.CpuStats.UserMode += u.CpuStats.UserMode
		total.CpuStats.SystemMode += u.CpuStats.SystemMode
		total.CpuStats.Percent += u.CpuStats.Percent
	}
	return out
}
