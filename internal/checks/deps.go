package checks

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Deps is everything a check may look at, passed in explicitly. A nil seam
// means "not configured": the checks that need it say so (skip or warn with
// the reason), never pass.
type Deps struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface

	// Decisions are the operator's choices, read from terraform.tfvars.
	Decisions Decisions

	// Nomad answers questions about the Nomad cluster (job resources for
	// SC-002, agent memory for SC-010).
	Nomad NomadReader
	// NomadHealth compares the live Nomad against the preflight baseline (SC-005).
	NomadHealth NomadHealth

	Terraform Terraform     // SC-006
	TLS       TLSOptions    // SC-004
	Exec      Exec          // SC-003 / SC-008 probes inside pods; nil where pods cannot be exec'd (KWOK)
	Assessor  Assessments   // SC-007
	Decision  DecisionDraft // SC-010

	// AllowRestart lets SC-003 delete the stateful pod to prove its data
	// survives; without it SC-003 reports what it could check and warns.
	AllowRestart bool

	// Now is the clock (tests pin it); nil means time.Now.
	Now func() time.Time

	// Prior holds the results of the non-final checks of this run; only
	// Final checks (SC-010) get it.
	Prior []Result

	snap *Snapshot
}

func (d *Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Snapshot is the run's shared cache of API lists: one List per resource
// type per run, whichever check asks first.
func (d *Deps) Snapshot() *Snapshot {
	if d.snap == nil {
		d.snap = NewSnapshot(d.Kube, d.Dynamic, d.Decisions.Namespace())
	}
	return d.snap
}

// withSnapshot returns a shallow copy of d using s.
func (d *Deps) withSnapshot(s *Snapshot) *Deps {
	c := *d
	c.snap = s
	return &c
}

// NomadReader is the part of Nomad SC-002 and SC-010 read.
type NomadReader interface {
	// TaskResources returns the resources each task of job declares.
	TaskResources(ctx context.Context, jobID string) ([]TaskResources, error)
	// NodeMemory returns, per Nomad client node, host memory in use and the
	// memory used by allocations, from the client stats endpoints.
	NodeMemory(ctx context.Context) ([]NomadNodeMemory, error)
}

// TaskResources is one Nomad task's declared resources.
type TaskResources struct {
	Group, Task string
	CPUMHz      int
	MemoryMB    int
	MemoryMaxMB int
}

// NomadNodeMemory is what Nomad's client stats say about one node.
type NomadNodeMemory struct {
	Node       string `json:"node"`
	HostUsedMB int64  `json:"host_used_mib"`
	AllocsMB   int64  `json:"allocations_mib"` // resident memory of every allocation on the node
	// CPU in MHz (Nomad's unit): what the host consumed and what its
	// allocations consumed.
	HostCPUMHz   int64 `json:"host_cpu_mhz"`
	AllocsCPUMHz int64 `json:"allocations_cpu_mhz"`
}

// AgentsCPUMHz estimates CPU outside Nomad allocations on the node (Nomad
// and Consul agents plus the OS), the CPU side of the comparison.
func (n NomadNodeMemory) AgentsCPUMHz() int64 { return n.HostCPUMHz - n.AllocsCPUMHz }

// AgentsMB estimates memory outside Nomad allocations on the node (Nomad and
// Consul agents plus the OS), the Nomad side of the overhead comparison.
func (n NomadNodeMemory) AgentsMB() int64 { return n.HostUsedMB - n.AllocsMB }

// NomadHealth compares Nomad now with the baseline taken in preflight.
type NomadHealth interface {
	// Compare returns how many jobs the baseline holds, when it was taken and
	// one sentence per regression since then.
	Compare(ctx context.Context) (jobs int, takenAt time.Time, regressions []string, err error)
}

// Terraform is the narrow Terraform seam SC-006 needs.
type Terraform interface {
	// Plan runs a refresh-and-plan and returns the planned changes
	// ("update kubectl_manifest.x"); none means no drift.
	Plan(ctx context.Context) ([]string, error)
	// StateModules returns the module addresses in the state (module.whoami).
	StateModules(ctx context.Context) ([]string, error)
}

// TLSOptions configure SC-004.
type TLSOptions struct {
	// DialAddr is host:port to connect to for every ingress host (the SNI is
	// the host). Empty dials host:443.
	DialAddr string
	// Roots verifies the chain; nil uses the system roots.
	Roots *x509.CertPool
	// MinValidity is how long a certificate must still be valid (default 7 days).
	MinValidity time.Duration
	// Hosts overrides the hosts found in Ingress/IngressRoute objects.
	Hosts []string
	// SimulatedBackends says the cluster's pods run no process (KWOK nodes,
	// the sandbox): a 502/503/504 from the route is then reported, not failed.
	SimulatedBackends bool
}

// Exec runs a command in a container and returns its stdout.
type Exec interface {
	Exec(ctx context.Context, namespace, pod, container string, cmd []string) (string, error)
}

// Assessment is the operator's own answer to SC-007.
type Assessment struct {
	Answer     string    `json:"answer"` // yes, partly or no
	Note       string    `json:"note,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Assessments reads the recorded SC-007 answer; nil Assessment, nil error
// means none has been recorded yet.
type Assessments interface {
	Assessment(ctx context.Context) (*Assessment, error)
}

// DecisionDraft is where SC-010 writes its draft decision record.
type DecisionDraft interface {
	// Write stores the draft unless the operator already finalised the
	// record; it returns where it wrote and whether it did.
	Write(ctx context.Context, body string) (path string, written bool, err error)
}

// LoadCAFile reads a PEM bundle for SC-004 (--ca-file); "" means the
// system roots (nil).
func LoadCAFile(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", path)
	}
	return pool, nil
}
