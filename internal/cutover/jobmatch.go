package cutover

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// jobServiceNames are the Consul service names a Nomad job registers (group
// and task level), with the usual runtime variables filled in.
func jobServiceNames(job *api.Job) []string {
	set := map[string]bool{}
	fill := func(name, group, task string) string {
		r := strings.NewReplacer("${NOMAD_JOB_NAME}", deref(job.Name), "${JOB}", deref(job.Name), "${NOMAD_GROUP_NAME}", group,
			"${TASKGROUP}", group, "${NOMAD_TASK_NAME}", task, "${TASK}", task)
		return r.Replace(name)
	}
	for _, tg := range job.TaskGroups {
		if tg == nil {
			continue
		}
		for _, s := range tg.Services {
			if s != nil && s.Name != "" {
				set[fill(s.Name, deref(tg.Name), "")] = true
			}
		}
		for _, t := range tg.Tasks {
			if t == nil {
				continue
			}
			for _, s := range t.Services {
				if s != nil && s.Name != "" {
					set[fill(s.Name, deref(tg.Name), t.Name)] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// jobMatchCheck ties --nomad-job to --service: the job must be the one the
// service ran as on Nomad (its ID is the service name, or it registers a
// Consul service of that name, or name-<suffix>), or the operator confirmed
// the job by name (GateInput.ConfirmedJob). Before, with --yes a typo in
// --nomad-job stopped any healthy job.
func jobMatchCheck(in GateInput, job *api.Job) GateCheck {
	t := in.Target
	c := GateCheck{ID: "nomad-job-match", Checked: fmt.Sprintf("Nomad job %s is the one that runs %s", t.job(), t.Service)}
	names := jobServiceNames(job)
	switch {
	case deref(job.ID) == t.Service:
		c.Status, c.Found = Pass, fmt.Sprintf("the job is named %s", t.Service)
		return c
	case in.ConfirmedJob != "" && in.ConfirmedJob == deref(job.ID):
		c.Status, c.Found = Pass, fmt.Sprintf("confirmed by name (--confirm-nomad-job %s); it registers %s", in.ConfirmedJob, listOr(names, "no Consul service"))
		return c
	}
	for _, n := range names {
		if n == t.Service || strings.HasPrefix(n, t.Service+"-") {
			c.Status, c.Found = Pass, fmt.Sprintf("it registers the Consul service %s", n)
			return c
		}
	}
	c.Status = Block
	c.Found = fmt.Sprintf("job %s registers %s, none of them %s", t.job(), listOr(names, "no Consul service"), t.Service)
	c.Next = fmt.Sprintf("Check --nomad-job (nomad job status lists the jobs). If job %s really runs %s, confirm it by name: --confirm-nomad-job %s", t.job(), t.Service, t.job())
	return c
}

func listOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, ", ")
}
