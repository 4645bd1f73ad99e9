package sandbox

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/nomadsim"
)

// NomadReader is what CopyJobs reads from the live Nomad: only reads, so
// a copy cannot write to it (*api.Jobs and *api.Namespaces fit through
// LiveNomad).
type NomadReader interface {
	ListJobs(ctx context.Context, namespace string) ([]*api.JobListStub, error)
	ListNamespaces(ctx context.Context) ([]string, error)
	Job(ctx context.Context, namespace, id string) (*api.Job, error)
}

// NomadWriter registers (and stops) jobs in the sandbox's simulator.
type NomadWriter interface {
	Register(ctx context.Context, job *api.Job) error
	Stop(ctx context.Context, namespace, id string) error
}

// LiveNomad reads jobs through nomad/api; it has no method that writes.
type LiveNomad struct{ C *api.Client }

func (l LiveNomad) ListJobs(ctx context.Context, ns string) ([]*api.JobListStub, error) {
	out, _, err := l.C.Jobs().List((&api.QueryOptions{Namespace: ns}).WithContext(ctx))
	return out, err
}

func (l LiveNomad) ListNamespaces(ctx context.Context) ([]string, error) {
	nss, _, err := l.C.Namespaces().List((&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nss {
		out = append(out, n.Name)
	}
	return out, nil
}

func (l LiveNomad) Job(ctx context.Context, ns, id string) (*api.Job, error) {
	j, _, err := l.C.Jobs().Info(id, (&api.QueryOptions{Namespace: ns}).WithContext(ctx))
	return j, err
}

// SimNomad registers jobs in the sandbox's own simulator.
type SimNomad struct{ C *api.Client }

func (s SimNomad) Register(ctx context.Context, j *api.Job) error {
	_, _, err := s.C.Jobs().Register(j, (&api.WriteOptions{Namespace: deref(j.Namespace)}).WithContext(ctx))
	return err
}

func (s SimNomad) Stop(ctx context.Context, ns, id string) error {
	_, _, err := s.C.Jobs().Deregister(id, false, (&api.WriteOptions{Namespace: ns}).WithContext(ctx))
	return err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CopyError names the live Nomad read that failed and what to check.
type CopyError struct {
	Addr, What string
	Err        error
}

func (e *CopyError) Error() string {
	return fmt.Sprintf("copying the live Nomad's jobs from %s: %s: %v; check the address and that NOMAD_TOKEN may list namespaces and read jobs (read-job; nothing is written to that Nomad)", e.Addr, e.What, e.Err)
}

func (e *CopyError) Unwrap() error { return e.Err }

// CopyJobs copies every job the live Nomad lists (all namespaces the
// token may read: namespace "*", which nomad/api documents as "all the
// namespaces the requester can access"; else each namespace
// Namespaces().List returns; else default) into the sandbox's simulator:
// Info for each, registered with the same spec. A job stopped on the live
// Nomad is stopped in the copy too. Periodic and parameterized children
// (dispatched instances) are left out: their parent is copied. It returns
// the copied jobs as namespace/id, sorted.
func CopyJobs(ctx context.Context, addr string, live NomadReader, sim NomadWriter) ([]string, error) {
	stubs, err := live.ListJobs(ctx, api.AllNamespacesNamespace)
	if err != nil {
		nss, nerr := live.ListNamespaces(ctx)
		if nerr != nil {
			nss = []string{"default"}
		}
		stubs = nil
		for _, ns := range nss {
			s, err := live.ListJobs(ctx, ns)
			if err != nil {
				return nil, &CopyError{Addr: addr, What: "list jobs in namespace " + ns, Err: err}
			}
			stubs = append(stubs, s...)
		}
	}
	var copied []string
	for _, st := range stubs {
		if st.ParentID != "" {
			continue
		}
		ns := st.Namespace
		if ns == "" {
			ns = "default"
		}
		j, err := live.Job(ctx, ns, st.ID)
		if err != nil {
			return copied, &CopyError{Addr: addr, What: "read job " + ns + "/" + st.ID, Err: err}
		}
		stopped := j.Stop != nil && *j.Stop
		if err := sim.Register(ctx, clearServerFields(j)); err != nil {
			return copied, fmt.Errorf("register the copy of %s/%s in the sandbox's Nomad simulator: %w", ns, st.ID, err)
		}
		if stopped {
			if err := sim.Stop(ctx, ns, st.ID); err != nil {
				return copied, fmt.Errorf("stop the copy of %s/%s (stopped on the live Nomad) in the sandbox: %w", ns, st.ID, err)
			}
		}
		copied = append(copied, ns+"/"+st.ID)
	}
	sort.Strings(copied)
	return copied, nil
}

// clearServerFields drops what the server sets on a register (indexes,
// version, status, submit time), so the copy is a registration of the
// same spec, as `nomad job inspect | nomad job run -json` would be.
func clearServerFields(j *api.Job) *api.Job {
	c := *j
	c.Stop, c.Status, c.StatusDescription, c.Stable = nil, nil, nil, nil
	c.Version, c.SubmitTime = nil, nil
	c.CreateIndex, c.ModifyIndex, c.JobModifyIndex = nil, nil, nil
	return &c
}

// seedFrom copies the live Nomad's jobs into the sandbox's simulator.
func seedFrom(ctx context.Context, so ServeOptions, sim *nomadsim.Server, log io.Writer) error {
	lc := api.DefaultConfig()
	lc.Address, lc.SecretID = so.NomadFrom, so.NomadFromToken
	live, err := api.NewClient(lc)
	if err != nil {
		return &CopyError{Addr: so.NomadFrom, What: "connect", Err: err}
	}
	sc := api.DefaultConfig()
	sc.Address, sc.SecretID = sim.URL(), sim.Token()
	own, err := api.NewClient(sc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	copied, err := CopyJobs(ctx, so.NomadFrom, LiveNomad{C: live}, SimNomad{C: own})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "sandbox: copied %d jobs from the live Nomad %s (read only): %s\n", len(copied), so.NomadFrom, strings.Join(copied, ", "))
	return nil
}
