package cutover

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/hashicorp/nomad/api"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/decisions"
	"migrate-tui/internal/objstore"
)

// SwitchRouter is the machine's Router over a TrafficSwitch (the
// file-provider route): it connects to the external Traefik's directory
// for each switch, writes or removes the route and proves it.
type SwitchRouter struct {
	// Open connects to the directory and returns the service's switch;
	// the closer ends the connection.
	Open func(ctx context.Context) (TrafficSwitch, io.Closer, error)
	// Place names the route file and where it goes, for the outcome.
	Place string
}

// Switch writes the route and proves it; a route that could not be
// written or proved is not in place (RouteSwitch removes an unproved one),
// so the error wraps ErrRouting: nothing to undo.
func (r SwitchRouter) Switch(ctx context.Context, _ Target) (string, error) {
	sw, c, err := r.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrRouting, err)
	}
	defer c.Close()
	step, err := sw.ToKubernetes(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrRouting, step.Detail)
	}
	return step.Detail, nil
}

// Unswitch removes the route and waits until requests no longer go
// through it.
func (r SwitchRouter) Unswitch(ctx context.Context, _ Target) (string, error) {
	sw, c, err := r.Open(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	step, err := sw.BackToNomad(ctx)
	if err != nil {
		return "", errors.New(step.Detail)
	}
	return step.Detail, nil
}

// Switched reports whether the service's route file is in place (a
// rollback after a switch killed before it was recorded).
func (r SwitchRouter) Switched(ctx context.Context) (bool, error) {
	sw, c, err := r.Open(ctx)
	if err != nil {
		return false, err
	}
	defer c.Close()
	return sw.Switched(ctx)
}

// Describe is what a switch (or unswitch) does, for the outcome.
func (r SwitchRouter) Describe(toKubernetes bool) string {
	if toKubernetes {
		return "write " + r.Place
	}
	return "remove " + r.Place
}

// ParitySettings choose the parity request of one service.
type ParitySettings struct {
	Path       string   // "" is the Nomad job's HTTP check path (HealthPath)
	Headers    []string // default Content-Type
	BodyDigest bool
}

// SpotCommands are the data spot check of one service as shell commands
// (sh -c) printing one value: on the Nomad instance, on the Kubernetes
// copy, and on the restored replica (its path is "$1").
type SpotCommands struct {
	What                    string
	Nomad, Kubernetes, Copy string
}

func (s SpotCommands) configured() bool { return s.Nomad != "" && s.Kubernetes != "" && s.Copy != "" }

// ChecksInput is what the transition checks of one service look at.
type ChecksInput struct {
	Gate     GateInput
	Services NomadServices // the Nomad instance's registered address
	Answers  decisions.Answers
	// Ingress is host:port of the K3s ingress (the Kubernetes copy is
	// asked there under its PoC host); "" cannot observe parity.
	Ingress string
	Roots   *x509.CertPool
	Parity  ParitySettings
	Spot    SpotCommands
	// Litestream is the litestream binary ("" looks it up on PATH).
	Litestream string
	// Getenv reads the copy's own S3 keys (LITESTREAM_ACCESS_KEY_ID,
	// LITESTREAM_SECRET_ACCESS_KEY); nil is os.Getenv.
	Getenv func(string) string
	// AfterSwitch, when set, is checked entering nomad-stopped (only with
	// a route migrate-tui wrote: the answer must carry its header).
	AfterSwitch *AfterSwitchInput
}

// TransitionChecks are the checks the machine runs on top of its own:
// parity, data (Litestream services), data-volumes and secrets entering
// verified; after-switch entering nomad-stopped.
func TransitionChecks(in ChecksInput) map[State][]TransitionCheck {
	m := map[State][]TransitionCheck{
		Verified: {in.parity, in.data, in.volumes, in.secrets},
	}
	if in.AfterSwitch != nil {
		a := *in.AfterSwitch
		m[NomadStopped] = []TransitionCheck{func(ctx context.Context, _ Target) GateCheck { return AfterSwitch(ctx, a) }}
	}
	return m
}

// unobserved is a check that cannot look: it blocks unless the operator
// accepts it (the machine turns it into a warning then).
func (in ChecksInput) unobserved(c GateCheck, found, next string) GateCheck {
	c.Status, c.Found, c.Next = Unobservable, found, next
	return c
}

func (in ChecksInput) job(ctx context.Context, t Target) (*api.Job, error) {
	if in.Gate.Nomad == nil {
		return nil, errors.New("no Nomad client")
	}
	return in.Gate.Nomad.ReadJob(ctx, t.ns(), t.job())
}

// simulated says whether every node of the cluster is KWOK's (the sandbox):
// pods there run no process. A list error counts as a real cluster.
func (in ChecksInput) simulated(ctx context.Context) bool {
	if in.Gate.Deps == nil || in.Gate.Deps.Kube == nil {
		return false
	}
	// One list now, not Deps.Snapshot(): that cache lives on the Deps the
	// wizard keeps for every machine, so it would answer from the first
	// transition's nodes for the whole session.
	nodes, err := in.Gate.Deps.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	return err == nil && checks.IsSimulated(nodes.Items)
}

func (in ChecksInput) namespace() string {
	if in.Gate.Deps != nil {
		return in.Gate.Deps.Decisions.Namespace()
	}
	return "poc"
}

func (in ChecksInput) parity(ctx context.Context, t Target) GateCheck {
	c := GateCheck{ID: "parity", Checked: "the same request answers the same from the Nomad instance of " + t.Service + " and from its Kubernetes copy"}
	job, err := in.job(ctx, t)
	if err != nil {
		c.Status, c.Found, c.Next = Block, "reading Nomad job "+t.job()+": "+err.Error(), "Check NOMAD_ADDR and NOMAD_TOKEN."
		return c
	}
	path := in.Parity.Path
	if path == "" {
		path = HealthPath(job, t.Service)
	}
	if in.Ingress == "" {
		return in.unobserved(c, "no K3s ingress address to ask the Kubernetes copy at", "Pass --dial host:port of the K3s Traefik (e.g. hestia:32443), or accept it unobserved.")
	}
	if in.Services == nil {
		return in.unobserved(c, "no Nomad service catalogue to find the Nomad instance in", "Check NOMAD_ADDR.")
	}
	base, err := NomadServiceURL(ctx, in.Services, t.ns(), t.Service)
	if err != nil {
		return in.unobserved(c, "the Nomad instance's address is unknown: "+err.Error(), "Register the service with the nomad provider, or compare the answers by hand and accept it unobserved.")
	}
	p := Parity(ctx, ParityInput{Service: t.Service, Path: path, Headers: in.Parity.Headers, BodyDigest: in.Parity.BodyDigest,
		Nomad:               Endpoint{URL: base},
		Kubernetes:          KubernetesEndpoint(in.Answers, t.Service, in.Ingress, in.Roots),
		KubernetesSimulated: in.simulated(ctx)})
	if p.Status == Unobservable {
		return in.unobserved(p, p.Found, p.Next)
	}
	return p
}

func (in ChecksInput) stateful(ctx context.Context, t Target) (*api.Job, bool, error) {
	job, err := in.job(ctx, t)
	if err != nil {
		return nil, false, err
	}
	_, ok := NomadBuckets(job)
	return job, ok, nil
}

func (in ChecksInput) data(ctx context.Context, t Target) GateCheck {
	c := GateCheck{ID: "data", Checked: "the data of " + t.Service + " agrees on Nomad, on the Kubernetes copy and in the latest replica of its own bucket"}
	_, ok, err := in.stateful(ctx, t)
	if err != nil {
		c.Status, c.Found, c.Next = Block, "reading Nomad job "+t.job()+": "+err.Error(), "Check NOMAD_ADDR and NOMAD_TOKEN."
		return c
	}
	if !ok {
		c.Status, c.Found = Pass, "Nomad job "+t.job()+" runs no Litestream task: no database to compare"
		return c
	}
	if !in.Spot.configured() {
		return in.unobserved(c, "no spot check configured for "+t.Service,
			"Pass cutover "+t.Service+" --spot-nomad CMD --spot-kubernetes CMD --spot-replica CMD (each printing one value, e.g. a row count through sqlite3; the replica's path is $1), or accept it unobserved.")
	}
	getenv := in.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	creds := objstore.Credentials{AccessKey: getenv("LITESTREAM_ACCESS_KEY_ID"), SecretKey: getenv("LITESTREAM_SECRET_ACCESS_KEY")}
	if creds.AccessKey == "" || creds.SecretKey == "" {
		return in.unobserved(c, "the Kubernetes copy's own S3 keys are not in the environment", "Export LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY (the copy's keys; never written anywhere), or accept it unobserved.")
	}
	bin := in.Litestream
	if bin == "" {
		if bin, err = exec.LookPath("litestream"); err != nil {
			return in.unobserved(c, "no litestream binary on PATH to restore the replica with", "Install litestream 0.5 here, or accept it unobserved.")
		}
	}
	bucket := ""
	if in.Gate.Deps != nil && in.Gate.Deps.Kube != nil {
		kb, _, _, err := kubeBuckets(ctx, in.Gate.Deps, t.Service)
		if err != nil || len(kb) == 0 {
			c.Status, c.Found, c.Next = Block, fmt.Sprintf("the Kubernetes copy's own bucket could not be read (%v)", err), "Apply the services stage (its litestream sidecar names the bucket)."
			return c
		}
		bucket = kb[0]
	}
	endpoint := in.Answers.Str("minio_endpoint")
	if endpoint == "" {
		endpoint = decisions.Defaults().Str("minio_endpoint")
	}
	sh := func(script string, args ...string) Spot {
		return Command(append([]string{"sh", "-c", script, "sh"}, args...))
	}
	return DataLatest(ctx, DataInput{Service: t.Service,
		// The services modules replicate under the service's name (overseerr's litestream.yml).
		Replica: Replica{Bin: bin, Endpoint: endpoint, Bucket: bucket, Path: t.Service, Creds: creds},
		Spot: SpotCheck{What: in.Spot.What, Nomad: sh(in.Spot.Nomad), Kubernetes: sh(in.Spot.Kubernetes),
			Replica: func(db string) Spot { return sh(in.Spot.Copy, db) }}})
}

func (in ChecksInput) volumes(ctx context.Context, t Target) GateCheck {
	job, err := in.job(ctx, t)
	if err != nil {
		job = nil
	}
	var d VolumesInput
	d.Service, d.Job, d.Namespace = t.Service, job, in.namespace()
	if in.Gate.Deps != nil {
		d.Kube = in.Gate.Deps.Kube
	}
	return VolumePaths(ctx, d)
}

func (in ChecksInput) secrets(ctx context.Context, t Target) GateCheck {
	job, err := in.job(ctx, t)
	if err != nil {
		job = nil
	}
	s := SecretsInput{Service: t.Service, Job: job, Namespace: in.namespace(),
		VaultMethod: in.Answers.Str("vault_method"), KVMount: in.Answers.Str("vault_kv_mount")}
	if in.Gate.Deps != nil {
		s.Kube, s.Dynamic = in.Gate.Deps.Kube, in.Gate.Deps.Dynamic
	}
	return Secrets(ctx, s)
}
