// Package cutover moves one service from Nomad to Kubernetes the way the
// operator did it by hand after the PoC, as far as APIs reach: a readiness
// gate (the Kubernetes copy healthy, the Nomad job healthy, separate
// Litestream buckets), the Nomad job's spec saved then the job stopped (not
// purged), the Nomad guard over every other job, and a rollback that
// registers the saved spec again and waits for it to run. The external
// Traefik's routing is outside its reach: it prints the change and records
// the operator's confirmation.
package cutover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/nomadwatch"
)

// Nomad is what a cutover reads and changes in Nomad.
type Nomad interface {
	nomadwatch.Nomad
	// ReadJob returns a job's full spec; ErrJobNotFound when Nomad has none.
	ReadJob(ctx context.Context, ns, id string) (*api.Job, error)
	// Register submits a job spec only while the job's JobModifyIndex is
	// still jobModifyIndex (Nomad's EnforceIndex); otherwise ErrJobChanged.
	Register(ctx context.Context, job *api.Job, jobModifyIndex uint64) error
	// Stop deregisters a job without purging it (nomad job stop).
	Stop(ctx context.Context, ns, id string) error
	// JobAllocs lists a job's allocations; a non-zero waitIndex blocks until
	// Nomad's index passes it (or Nomad's wait time ends).
	JobAllocs(ctx context.Context, ns, id string, waitIndex uint64) ([]*api.AllocationListStub, uint64, error)
}

// ErrJobNotFound: Nomad has no job by that ID.
var ErrJobNotFound = errors.New("nomad job not found")

// FromClient adapts nomadwatch's client (NOMAD_ADDR, NOMAD_TOKEN, TLS from
// the environment).
func FromClient(c *nomadwatch.Client) Nomad { return apiNomad{c} }

type apiNomad struct{ *nomadwatch.Client }

func q(ctx context.Context, ns string, waitIndex uint64) *api.QueryOptions {
	o := &api.QueryOptions{Namespace: ns, WaitIndex: waitIndex}
	if waitIndex > 0 {
		o.WaitTime = 30 * time.Second
	}
	return o.WithContext(ctx)
}

func (n apiNomad) ReadJob(ctx context.Context, ns, id string) (*api.Job, error) {
	j, _, err := n.API().Jobs().Info(id, q(ctx, ns, 0))
	var ure api.UnexpectedResponseError
	if errors.As(err, &ure) && ure.HasStatusCode() && ure.StatusCode() == 404 {
		return nil, fmt.Errorf("%w: %s at %s", ErrJobNotFound, id, n.Address())
	}
	if err != nil {
		return nil, fmt.Errorf("read Nomad job %s at %s: %w", id, n.Address(), err)
	}
	return j, nil
}

// ErrJobChanged: the job changed in Nomad since migrate-tui looked at it.
var ErrJobChanged = errors.New("the Nomad job changed since migrate-tui read it")

func (n apiNomad) Register(ctx context.Context, job *api.Job, jobModifyIndex uint64) error {
	w := (&api.WriteOptions{}).WithContext(ctx)
	if job.Namespace != nil {
		w.Namespace = *job.Namespace
	}
	// EnforceIndex: Nomad's job endpoint refuses the register with
	// "Enforcing job modify index N: ..." when the job's JobModifyIndex is
	// not N (nomad/job_endpoint.go, RegisterEnforceIndexErrPrefix).
	_, _, err := n.API().Jobs().RegisterOpts(job, &api.RegisterOptions{EnforceIndex: true, ModifyIndex: jobModifyIndex}, w)
	if err != nil && strings.Contains(err.Error(), api.RegisterEnforceIndexErrPrefix) {
		return fmt.Errorf("%w: register Nomad job %s at %s: %v", ErrJobChanged, deref(job.ID), n.Address(), err)
	}
	if err != nil {
		return fmt.Errorf("register Nomad job %s at %s (needs namespace capability submit-job): %w", deref(job.ID), n.Address(), err)
	}
	return nil
}

func (n apiNomad) Stop(ctx context.Context, ns, id string) error {
	w := (&api.WriteOptions{Namespace: ns}).WithContext(ctx)
	if _, _, err := n.API().Jobs().Deregister(id, false, w); err != nil {
		return fmt.Errorf("stop Nomad job %s at %s (needs namespace capability submit-job): %w", id, n.Address(), err)
	}
	return nil
}

func (n apiNomad) JobAllocs(ctx context.Context, ns, id string, waitIndex uint64) ([]*api.AllocationListStub, uint64, error) {
	as, meta, err := n.API().Jobs().Allocations(id, false, q(ctx, ns, waitIndex))
	if err != nil {
		return nil, 0, fmt.Errorf("list allocations of Nomad job %s at %s: %w", id, n.Address(), err)
	}
	return as, meta.LastIndex, nil
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}
