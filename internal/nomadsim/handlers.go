package nomadsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// Every read handler runs with s.mu held (see blocking).

func nsMatches(objNS string, r *http.Request) bool {
	q := r.URL.Query().Get("namespace")
	switch q {
	case "*":
		return true
	case "":
		q = "default"
	}
	if objNS == "" {
		objNS = "default"
	}
	return objNS == q
}

func boolParam(r *http.Request, name string) bool {
	v := r.URL.Query().Get(name)
	return v == "true" || v == "1"
}

func (s *Server) agentSelf(*http.Request) (any, error) {
	acl := map[string]any{"Enabled": s.opts.Token != ""}
	return &api.AgentSelf{
		Config: map[string]any{
			"Region":     "global",
			"Datacenter": "dc1",
			"NodeName":   "hestia",
			"Version":    map[string]any{"Version": simVersion, "Revision": "nomadsim"},
			"ACL":        acl,
			"Server":     map[string]any{"Enabled": true},
			"Client":     map[string]any{"Enabled": true},
		},
		Member: api.AgentMember{
			Name:   "hestia.global",
			Addr:   "192.168.1.5",
			Port:   4648,
			Status: "alive",
			Tags: map[string]string{
				"region": "global", "dc": "dc1", "build": simVersion, "role": "nomad",
			},
		},
		Stats: map[string]map[string]string{
			"nomad":   {"leader": "true", "server": "true", "known_regions": "1"},
			"client":  {"node_id": s.nodeByName("hestia").ID, "known_servers": "192.168.1.5:4647"},
			"runtime": {"arch": "amd64", "kernel.name": "linux", "version": "go1.24"},
		},
	}, nil
}

func (s *Server) nodeByName(name string) *api.Node {
	for _, n := range s.nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (s *Server) nodeByID(id string) *api.Node {
	for _, n := range s.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

func (s *Server) listNodes(r *http.Request) (any, error) {
	prefix := r.URL.Query().Get("prefix")
	withRes := boolParam(r, "resources")
	withOS := boolParam(r, "os")
	out := []*api.NodeListStub{}
	for _, n := range s.nodes {
		if !strings.HasPrefix(n.ID, prefix) {
			continue
		}
		stub := &api.NodeListStub{
			Address:               n.Attributes["unique.network.ip-address"],
			ID:                    n.ID,
			Datacenter:            n.Datacenter,
			Name:                  n.Name,
			NodeClass:             n.NodeClass,
			NodePool:              n.NodePool,
			Version:               n.Attributes["nomad.version"],
			Drain:                 n.Drain,
			SchedulingEligibility: n.SchedulingEligibility,
			Status:                n.Status,
			StatusDescription:     n.StatusDescription,
			Drivers:               n.Drivers,
			CreateIndex:           n.CreateIndex,
			ModifyIndex:           n.ModifyIndex,
		}
		if withRes {
			stub.NodeResources = n.NodeResources
			stub.ReservedResources = n.ReservedResources
		}
		if withOS {
			stub.Attributes = map[string]string{"os.name": n.Attributes["os.name"], "os.version": n.Attributes["os.version"]}
		}
		out = append(out, stub)
	}
	return out, nil
}

func (s *Server) readNode(r *http.Request) (any, error) {
	n := s.nodeByID(r.PathValue("id"))
	if n == nil {
		return nil, notFound("node not found")
	}
	return n, nil
}

func (s *Server) nodeAllocs(r *http.Request) (any, error) {
	n := s.nodeByID(r.PathValue("id"))
	if n == nil {
		return nil, notFound("node not found")
	}
	out := []*api.Allocation{}
	for _, a := range s.allocs {
		if a.NodeID == n.ID {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *Server) listJobs(r *http.Request) (any, error) {
	prefix := r.URL.Query().Get("prefix")
	out := []*api.JobListStub{}
	for _, id := range s.sortedJobIDs() {
		j := s.jobs[id]
		if !strings.HasPrefix(id, prefix) || !nsMatches(*j.Namespace, r) {
			continue
		}
		out = append(out, s.jobStub(j))
	}
	return out, nil
}

func (s *Server) sortedJobIDs() []string {
	ids := make([]string, 0, len(s.jobs))
	for id := range s.jobs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *Server) jobStub(j *api.Job) *api.JobListStub {
	return &api.JobListStub{
		ID:                *j.ID,
		ParentID:          deref(j.ParentID),
		Name:              deref(j.Name),
		Namespace:         deref(j.Namespace),
		Datacenters:       j.Datacenters,
		Type:              deref(j.Type),
		Priority:          deref(j.Priority),
		Periodic:          j.Periodic != nil && (j.Periodic.Enabled == nil || *j.Periodic.Enabled),
		ParameterizedJob:  j.ParameterizedJob != nil,
		Stop:              deref(j.Stop),
		Status:            deref(j.Status),
		StatusDescription: deref(j.StatusDescription),
		JobSummary:        s.jobSummary(j),
		CreateIndex:       deref(j.CreateIndex),
		ModifyIndex:       deref(j.ModifyIndex),
		JobModifyIndex:    deref(j.JobModifyIndex),
		SubmitTime:        deref(j.SubmitTime),
		Meta:              j.Meta,
	}
}

func (s *Server) jobSummary(j *api.Job) *api.JobSummary {
	sum := &api.JobSummary{
		JobID:       *j.ID,
		Namespace:   deref(j.Namespace),
		Summary:     map[string]api.TaskGroupSummary{},
		CreateIndex: deref(j.CreateIndex),
		ModifyIndex: deref(j.ModifyIndex),
	}
	for _, tg := range j.TaskGroups {
		sum.Summary[*tg.Name] = api.TaskGroupSummary{}
	}
	for _, a := range s.allocs {
		if a.JobID != *j.ID || a.Namespace != deref(j.Namespace) {
			continue
		}
		tgs := sum.Summary[a.TaskGroup]
		switch a.ClientStatus {
		case api.AllocClientStatusRunning:
			tgs.Running++
		case api.AllocClientStatusPending:
			tgs.Starting++
		case api.AllocClientStatusComplete:
			tgs.Complete++
		case api.AllocClientStatusFailed:
			tgs.Failed++
		case api.AllocClientStatusLost:
			tgs.Lost++
		case api.AllocClientStatusUnknown:
			tgs.Unknown++
		}
		sum.Summary[a.TaskGroup] = tgs
	}
	if j.Periodic != nil || j.ParameterizedJob != nil {
		sum.Children = &api.JobChildrenSummary{}
		for _, c := range s.jobs {
			if deref(c.ParentID) != *j.ID {
				continue
			}
			switch deref(c.Status) {
			case "pending":
				sum.Children.Pending++
			case "running":
				sum.Children.Running++
			default:
				sum.Children.Dead++
			}
		}
	}
	return sum
}

func (s *Server) jobByRequest(r *http.Request) (*api.Job, error) {
	id := r.PathValue("id")
	j, ok := s.jobs[id]
	if !ok || !nsMatches(deref(j.Namespace), r) {
		return nil, notFound("job not found")
	}
	return j, nil
}

func (s *Server) readJob(r *http.Request) (any, error) { return s.jobByRequest(r) }

func (s *Server) jobSummaryHandler(r *http.Request) (any, error) {
	j, err := s.jobByRequest(r)
	if err != nil {
		return nil, err
	}
	return s.jobSummary(j), nil
}

func (s *Server) jobAllocs(r *http.Request) (any, error) {
	j, err := s.jobByRequest(r)
	if err != nil {
		return nil, err
	}
	all := boolParam(r, "all")
	out := []*api.AllocationListStub{}
	for _, a := range s.allocs {
		if a.JobID != *j.ID {
			continue
		}
		// Without all=true Nomad hides allocations of an earlier job
		// incarnation (one stopped, purged and registered again).
		if !all && a.Job != nil && deref(a.Job.CreateIndex) != deref(j.CreateIndex) {
			continue
		}
		out = append(out, allocStub(a, false))
	}
	return out, nil
}

func (s *Server) jobDeployments(r *http.Request) (any, error) {
	j, err := s.jobByRequest(r)
	if err != nil {
		return nil, err
	}
	out := []*api.Deployment{}
	for _, d := range s.deploys {
		if d.JobID == *j.ID {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Server) jobLatestDeployment(r *http.Request) (any, error) {
	j, err := s.jobByRequest(r)
	if err != nil {
		return nil, err
	}
	var latest *api.Deployment
	for _, d := range s.deploys {
		if d.JobID == *j.ID && (latest == nil || d.CreateIndex > latest.CreateIndex) {
			latest = d
		}
	}
	return latest, nil // JSON null when there is none, as Nomad answers
}

func allocStub(a *api.Allocation, withResources bool) *api.AllocationListStub {
	stub := &api.AllocationListStub{
		ID:                    a.ID,
		EvalID:                a.EvalID,
		Name:                  a.Name,
		Namespace:             a.Namespace,
		NodeID:                a.NodeID,
		NodeName:              a.NodeName,
		JobID:                 a.JobID,
		TaskGroup:             a.TaskGroup,
		DesiredStatus:         a.DesiredStatus,
		DesiredDescription:    a.DesiredDescription,
		ClientStatus:          a.ClientStatus,
		ClientDescription:     a.ClientDescription,
		TaskStates:            a.TaskStates,
		DeploymentStatus:      a.DeploymentStatus,
		FollowupEvalID:        a.FollowupEvalID,
		NextAllocation:        a.NextAllocation,
		RescheduleTracker:     a.RescheduleTracker,
		PreemptedAllocations:  a.PreemptedAllocations,
		PreemptedByAllocation: a.PreemptedByAllocation,
		CreateIndex:           a.CreateIndex,
		ModifyIndex:           a.ModifyIndex,
		CreateTime:            a.CreateTime,
		ModifyTime:            a.ModifyTime,
	}
	if a.Job != nil {
		stub.JobType = deref(a.Job.Type)
		stub.JobVersion = deref(a.Job.Version)
	}
	if withResources {
		stub.AllocatedResources = a.AllocatedResources
	}
	return stub
}

func (s *Server) listAllocs(r *http.Request) (any, error) {
	prefix := r.URL.Query().Get("prefix")
	withRes := boolParam(r, "resources")
	out := []*api.AllocationListStub{}
	for _, a := range s.allocs {
		if strings.HasPrefix(a.ID, prefix) && nsMatches(a.Namespace, r) {
			out = append(out, allocStub(a, withRes))
		}
	}
	return out, nil
}

func (s *Server) allocByID(id string) *api.Allocation {
	for _, a := range s.allocs {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (s *Server) readAlloc(r *http.Request) (any, error) {
	a := s.allocByID(r.PathValue("id"))
	if a == nil {
		return nil, notFound("alloc not found")
	}
	return a, nil
}

func (s *Server) listDeployments(r *http.Request) (any, error) {
	prefix := r.URL.Query().Get("prefix")
	out := []*api.Deployment{}
	for _, d := range s.deploys {
		if strings.HasPrefix(d.ID, prefix) && nsMatches(d.Namespace, r) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Server) readDeployment(r *http.Request) (any, error) {
	for _, d := range s.deploys {
		if d.ID == r.PathValue("id") {
			return d, nil
		}
	}
	return nil, notFound("deployment not found")
}

func (s *Server) listServices(r *http.Request) (any, error) {
	byNS := map[string]map[string][]string{}
	for _, reg := range s.svcs {
		if !nsMatches(reg.Namespace, r) {
			continue
		}
		if byNS[reg.Namespace] == nil {
			byNS[reg.Namespace] = map[string][]string{}
		}
		tags := byNS[reg.Namespace][reg.ServiceName]
		for _, t := range reg.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		byNS[reg.Namespace][reg.ServiceName] = tags
	}
	out := []*api.ServiceRegistrationListStub{}
	for _, ns := range sortedKeys(byNS) {
		stub := &api.ServiceRegistrationListStub{Namespace: ns}
		for _, name := range sortedKeys(byNS[ns]) {
			stub.Services = append(stub.Services, &api.ServiceRegistrationStub{ServiceName: name, Tags: byNS[ns][name]})
		}
		out = append(out, stub)
	}
	return out, nil
}

func (s *Server) readService(r *http.Request) (any, error) {
	out := []*api.ServiceRegistration{}
	for _, reg := range s.svcs {
		if reg.ServiceName == r.PathValue("name") && nsMatches(reg.Namespace, r) {
			out = append(out, reg)
		}
	}
	return out, nil
}

// clientStats answers for the agent itself (hestia) or, with ?node_id=, for
// that client, as a Nomad server does by forwarding to the node.
func (s *Server) clientStats(r *http.Request) (any, error) {
	n := s.nodeByName("hestia")
	if id := r.URL.Query().Get("node_id"); id != "" {
		n = s.nodeByID(id)
		if n == nil {
			return nil, notFound("Unknown node %q", id)
		}
	}
	if n.Status != "ready" {
		return nil, &httpError{code: http.StatusInternalServerError, msg: "Unknown node " + n.ID + ": no path to node"}
	}
	return s.hostStats(n), nil
}

func (s *Server) allocStats(r *http.Request) (any, error) {
	a := s.allocByID(r.PathValue("id"))
	if a == nil {
		return nil, notFound("Unknown allocation %q", r.PathValue("id"))
	}
	if a.ClientStatus != api.AllocClientStatusRunning {
		return nil, badRequest("allocation %s is not running (client status %s)", a.ID, a.ClientStatus)
	}
	return s.allocUsage(a), nil
}

func (s *Server) registerHandler(r *http.Request) (any, error) {
	var req api.JobRegisterRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, badRequest("%s", err)
	}
	if req.Job == nil {
		return nil, badRequest("Job must be specified")
	}
	if id := r.PathValue("id"); id != "" && (req.Job.ID == nil || *req.Job.ID != id) {
		return nil, badRequest("Job ID does not match name")
	}
	if ns := r.URL.Query().Get("namespace"); ns != "" && ns != "*" && req.Job.Namespace == nil {
		req.Job.Namespace = new(ns)
	}
	if req.EnforceIndex {
		// As Nomad's job endpoint does (nomad/job_endpoint.go): the three
		// refusals, as HTTP 500 with RegisterEnforceIndexErrPrefix.
		var existing *api.Job
		if req.Job.ID != nil {
			existing = s.jobs[*req.Job.ID]
		}
		jmi := req.JobModifyIndex
		switch {
		case existing != nil && jmi == 0:
			return nil, &httpError{code: http.StatusInternalServerError, msg: api.RegisterEnforceIndexErrPrefix + " 0: job already exists"}
		case existing != nil && existing.JobModifyIndex != nil && jmi != *existing.JobModifyIndex:
			return nil, &httpError{code: http.StatusInternalServerError, msg: fmt.Sprintf("%s %d: job exists with conflicting job modify index: %d", api.RegisterEnforceIndexErrPrefix, jmi, *existing.JobModifyIndex)}
		case existing == nil && jmi != 0:
			return nil, &httpError{code: http.StatusInternalServerError, msg: fmt.Sprintf("%s %d: job does not exist", api.RegisterEnforceIndexErrPrefix, jmi)}
		}
	}
	return s.register(req.Job)
}

func (s *Server) deregisterHandler(r *http.Request) (any, error) {
	j, err := s.jobByRequest(r)
	if err != nil {
		return nil, err
	}
	return s.deregister(*j.ID, boolParam(r, "purge"))
}
