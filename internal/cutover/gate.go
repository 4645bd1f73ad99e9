package cutover

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/decisions"
	"migrate-tui/internal/litestream"
	"migrate-tui/internal/status"
)

// Status of one gate check or step: the one result vocabulary
// (internal/status). A gate check that is neither pass nor warn blocks.
type Status = status.Status

const (
	Pass  = status.Pass
	Block = status.Fail // the cutover must not start
	Warn  = status.Warn // the operator must know, but it does not block
	// Unobservable blocks too, unless the operator accepts it
	// (--accept-unobserved), when it becomes a Warn that says so.
	Unobservable = status.Unobservable
)

// GateCheck is one readiness check: what was checked, what was found, the
// next step.
type GateCheck struct {
	ID      string `json:"id"`
	Checked string `json:"checked"`
	Status  Status `json:"status"`
	Found   string `json:"found"`
	Next    string `json:"next,omitempty"`
}

// Gate is the readiness gate's outcome.
type Gate struct {
	Service  string      `json:"service"`
	NomadJob string      `json:"nomad_job"`
	Checks   []GateCheck `json:"checks"`
}

// Ready reports whether nothing blocks.
func (g Gate) Ready() bool {
	for _, c := range g.Checks {
		if !c.Status.OK() {
			return false
		}
	}
	return true
}

// Blockers lists the blocking checks.
func (g Gate) Blockers() []GateCheck {
	var out []GateCheck
	for _, c := range g.Checks {
		if !c.Status.OK() {
			out = append(out, c)
		}
	}
	return out
}

// Target names what is cut over.
type Target struct {
	Service   string // the PoC service (Kubernetes workload) name
	NomadJob  string // default: Service
	Namespace string // Nomad namespace; "" is default
}

func (t Target) job() string {
	if t.NomadJob != "" {
		return t.NomadJob
	}
	return t.Service
}

func (t Target) ns() string {
	if t.Namespace != "" {
		return t.Namespace
	}
	return "default"
}

// GateInput is what the gate looks at.
type GateInput struct {
	Target Target
	Nomad  Nomad
	// Deps reach Kubernetes (Kube, Dynamic), the decisions (namespace,
	// domain) and TLS options; the gate narrows PoCServices to the service.
	Deps *checks.Deps
	// AcceptUnobserved lets a check that cannot be observed from here warn
	// instead of block (the operator vouches for it).
	AcceptUnobserved bool
	RunOptions       checks.RunOptions
	// ConfirmedJob is the Nomad job ID the operator typed to confirm a job
	// that neither is named after the service nor registers it.
	ConfirmedJob string
}

// Readiness runs the gate. Nothing is changed.
func Readiness(ctx context.Context, in GateInput) Gate {
	t := in.Target
	g := Gate{Service: t.Service, NomadJob: t.job()}
	g.Checks = append(g.Checks, k8sChecks(ctx, in)...)
	job, nc := nomadJobCheck(ctx, in)
	g.Checks = append(g.Checks, nc)
	if job != nil {
		g.Checks = append(g.Checks, jobMatchCheck(in, job))
	}
	if job != nil {
		g.Checks = append(g.Checks, litestreamChecks(ctx, in, job)...)
	}
	return g
}

// fromResult turns a success criterion into a gate check. Only a pass lets
// the cutover go: a check's warning or skip blocks (it says so in found); an
// unobservable one blocks unless accepted (--accept-unobserved).
func fromResult(id, checked string, r checks.Result, acceptUnobserved bool) GateCheck {
	c := GateCheck{ID: id, Checked: checked, Found: r.Evidence, Next: r.Hint}
	switch r.Status {
	case checks.Pass:
		c.Status, c.Next = Pass, ""
	case checks.Unobservable:
		c.Status = Unobservable
		if acceptUnobserved {
			c.Status, c.Found = Warn, c.Found+"; accepted unobserved (--accept-unobserved)"
		}
	default:
		c.Status = Block
		if r.Status == checks.Skip || r.Status == checks.Warn {
			c.Found = string(r.Status) + ": " + r.Evidence
		}
	}
	return c
}

func k8sChecks(ctx context.Context, in GateInput) []GateCheck {
	svc := in.Target.Service
	if in.Deps == nil || in.Deps.Kube == nil {
		return []GateCheck{{ID: "SC-001", Checked: "the Kubernetes copy of " + svc + " runs and is Ready",
			Status: Block, Found: "no cluster configured", Next: "Pass --kubeconfig (or set KUBECONFIG) for the K3s cluster."}}
	}
	d := *in.Deps
	// The gate judges this service alone, not the other scaffolded ones.
	d.Decisions.PoCServices, d.Decisions.Scaffolded = []string{svc}, nil
	// Before cutover the Kubernetes copy answers at its PoC host
	// (poc_host_pattern, default <service>-k8s.<domain>); the production
	// host still routes to Nomad.
	d.TLS.Hosts = []string{decisions.PoCHost(d.Decisions.PoCHostPattern, svc, d.Decisions.Domain)}
	var out []GateCheck
	rs, err := checks.RunIDs(ctx, []string{"SC-001"}, &d, in.RunOptions, nil)
	if err != nil || len(rs) != 1 {
		out = append(out, GateCheck{ID: "SC-001", Checked: "the Kubernetes copy of " + svc + " runs and is Ready", Status: Block, Found: fmt.Sprint(err)})
	} else {
		out = append(out, fromResult("SC-001", "the Kubernetes copy of "+svc+" runs at its replicas, pods Ready behind endpoints", rs[0], in.AcceptUnobserved))
	}
	host := d.TLS.Hosts[0]
	checked := "https://" + host + " answers from the Kubernetes ingress with a valid certificate"
	if d.TLS.DialAddr == "" {
		// Dialling the host itself reaches the external Traefik, which still
		// routes to Nomad: that proves nothing about the Kubernetes copy.
		c := GateCheck{ID: "SC-004", Checked: checked,
			Found: "cannot be observed here: no address of the Kubernetes ingress to dial (" + host + " still resolves to the external Traefik, which routes to Nomad)",
			Next:  "Pass --dial <node>:<traefik_https_port> (the K3s Traefik NodePort) so the handshake is made against Kubernetes, or --accept-unobserved if you checked it yourself."}
		c.Status = Unobservable
		if in.AcceptUnobserved {
			c.Status, c.Found = Warn, c.Found+"; accepted unobserved (--accept-unobserved)"
		}
		return append(out, c)
	}
	rs, err = checks.RunIDs(ctx, []string{"SC-004"}, &d, in.RunOptions, nil)
	if err != nil || len(rs) != 1 {
		return append(out, GateCheck{ID: "SC-004", Checked: checked, Status: Block, Found: fmt.Sprint(err)})
	}
	r := rs[0]
	if r.Status == checks.Warn {
		// SC-004 warns only when the certificate and the router were seen
		// but the backend cannot answer (KWOK pods run no process): for the
		// gate that part is not observable, so --accept-unobserved can let
		// it through as a warning, and nothing else does.
		r.Status = checks.Unobservable
	}
	return append(out, fromResult("SC-004", checked, r, in.AcceptUnobserved))
}

// nomadJobCheck reads the job and says whether it is healthy now.
func nomadJobCheck(ctx context.Context, in GateInput) (*api.Job, GateCheck) {
	t := in.Target
	c := GateCheck{ID: "nomad-job", Checked: fmt.Sprintf("Nomad job %s exists and runs healthy now", t.job())}
	if in.Nomad == nil {
		c.Status, c.Found, c.Next = Block, "Nomad not configured", "Set NOMAD_ADDR and NOMAD_TOKEN."
		return nil, c
	}
	job, err := in.Nomad.ReadJob(ctx, t.ns(), t.job())
	if errors.Is(err, ErrJobNotFound) {
		c.Status, c.Found = Block, fmt.Sprintf("Nomad at %s has no job %s in namespace %s", in.Nomad.Address(), t.job(), t.ns())
		c.Next = "Name the job that runs " + t.Service + " with --nomad-job (nomad job status lists them)."
		return nil, c
	}
	if err != nil {
		c.Status, c.Found, c.Next = Block, err.Error(), "Check NOMAD_ADDR and NOMAD_TOKEN (nomad job status should answer)."
		return nil, c
	}
	if deref(job.Stop) || deref(job.Status) != "running" {
		c.Status = Block
		c.Found = fmt.Sprintf("job %s is %s (stopped: %v)", t.job(), deref(job.Status), deref(job.Stop))
		c.Next = "A cutover starts from a healthy Nomad job (so a rollback has something to return to): nomad job status " + t.job() + " says why it is not running."
		return job, c
	}
	allocs, _, err := in.Nomad.JobAllocs(ctx, t.ns(), t.job(), 0)
	if err != nil {
		c.Status, c.Found = Block, err.Error()
		return job, c
	}
	running, problems := allocHealth(allocs)
	want := 0
	for _, tg := range job.TaskGroups {
		want += deref(tg.Count)
	}
	if running < want {
		problems = append(problems, fmt.Sprintf("%d of %d allocations running", running, want))
	}
	if len(problems) > 0 {
		c.Status, c.Found = Block, strings.Join(problems, "; ")
		c.Next = "nomad job status " + t.job() + " and nomad alloc status <alloc> say why; cut over once Nomad is healthy."
		return job, c
	}
	c.Status, c.Found = Pass, fmt.Sprintf("job %s version %d: %d allocations running and healthy", t.job(), deref(job.Version), running)
	return job, c
}

// allocHealth counts running allocations Nomad wants and names the bad ones.
func allocHealth(allocs []*api.AllocationListStub) (running int, problems []string) {
	for _, a := range allocs {
		if a.DesiredStatus != api.AllocDesiredStatusRun {
			continue
		}
		switch {
		case a.ClientStatus != api.AllocClientStatusRunning:
			problems = append(problems, fmt.Sprintf("allocation %s on %s is %s", short(a.ID), a.NodeName, a.ClientStatus))
		case a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil && !*a.DeploymentStatus.Healthy:
			problems = append(problems, fmt.Sprintf("allocation %s on %s is unhealthy", short(a.ID), a.NodeName))
		default:
			running++
		}
	}
	return running, problems
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

var (
	s3URL      = regexp.MustCompile(`s3://([a-z0-9][a-z0-9.-]*[a-z0-9])`)
	bucketYAML = regexp.MustCompile(`(?m)bucket:\s*["']?([a-z0-9][a-z0-9.-]*[a-z0-9])`)
	bucketEnv  = regexp.MustCompile(`(?i)bucket`)
)

func bucketsIn(s string, into map[string]bool) {
	for _, m := range s3URL.FindAllStringSubmatch(s, -1) {
		into[m[1]] = true
	}
	for _, m := range bucketYAML.FindAllStringSubmatch(s, -1) {
		into[m[1]] = true
	}
}

func isLitestream(name, image string) bool {
	return strings.Contains(name, "litestream") || strings.Contains(image, "litestream")
}

// NomadBuckets reads the Litestream buckets a job's litestream tasks use
// (args, env, templates' text). ok is false when the job has no Litestream task.
func NomadBuckets(job *api.Job) (buckets []string, ok bool) {
	set := map[string]bool{}
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			image, _ := t.Config["image"].(string)
			if !isLitestream(t.Name, image) {
				continue
			}
			ok = true
			bucketsIn(fmt.Sprint(t.Config["args"]), set)
			bucketsIn(fmt.Sprint(t.Config["command"]), set)
			for k, v := range t.Env {
				if bucketEnv.MatchString(k) && !strings.Contains(v, "/") && v != "" {
					set[v] = true
				}
				bucketsIn(v, set)
			}
			for _, tp := range t.Templates {
				bucketsIn(deref(tp.EmbeddedTmpl), set)
			}
		}
	}
	return sortedSet(set), ok
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// kubeBuckets reads the buckets the service's StatefulSet's litestream
// containers replicate to (args, env, the mounted ConfigMap file their
// -config names, else every file of it), and the Litestream image tags of
// its litestream containers (init containers included). Init containers
// only restore (the overseerr module's seed.yml reads the Nomad copy's
// replica), so their buckets are not counted as written.
func kubeBuckets(ctx context.Context, d *checks.Deps, service string) (buckets []string, versions []string, where string, err error) {
	ns := d.Decisions.Namespace()
	sts, err := d.Kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, "", fmt.Errorf("list StatefulSets in %s: %w", ns, err)
	}
	for _, s := range sts.Items {
		if s.Name != service && s.Labels["app.kubernetes.io/name"] != service && s.Labels["app"] != service {
			continue
		}
		set := map[string]bool{}
		spec := s.Spec.Template.Spec
		type cmFile struct{ name, key string } // key "" = every file
		var files []cmFile
		mounted := map[string]string{} // volume -> ConfigMap
		for _, v := range spec.Volumes {
			if v.ConfigMap != nil {
				mounted[v.Name] = v.ConfigMap.Name
			}
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			if v, ok := litestream.ImageVersion(c.Image); ok && !slices.Contains(versions, v) {
				versions = append(versions, v)
			}
		}
		for _, c := range spec.Containers {
			if !isLitestream(c.Name, c.Image) {
				continue
			}
			argv := slices.Concat(c.Command, c.Args)
			bucketsIn(strings.Join(argv, " "), set)
			for _, e := range c.Env {
				if bucketEnv.MatchString(e.Name) && e.Value != "" && !strings.Contains(e.Value, "/") {
					set[e.Value] = true
				}
				bucketsIn(e.Value, set)
			}
			cfg := configArg(argv)
			for _, m := range c.VolumeMounts {
				cm, ok := mounted[m.Name]
				if !ok {
					continue
				}
				switch {
				case cfg == "":
					files = append(files, cmFile{cm, ""})
				case strings.HasPrefix(cfg, strings.TrimSuffix(m.MountPath, "/")+"/"):
					files = append(files, cmFile{cm, strings.TrimPrefix(cfg, strings.TrimSuffix(m.MountPath, "/")+"/")})
				}
			}
		}
		for _, f := range files {
			obj, err := d.Kube.CoreV1().ConfigMaps(ns).Get(ctx, f.name, metav1.GetOptions{})
			if err != nil {
				return nil, nil, "", fmt.Errorf("read ConfigMap %s/%s: %w", ns, f.name, err)
			}
			for k, v := range obj.Data {
				if f.key == "" || k == f.key {
					bucketsIn(v, set)
				}
			}
		}
		sort.Strings(versions)
		return sortedSet(set), versions, "StatefulSet " + ns + "/" + s.Name, nil
	}
	return nil, nil, "", nil
}

// configArg is the value of -config (or -config=...) in a command line,
// also inside a shell script argument.
func configArg(argv []string) string {
	fields := strings.Fields(strings.Join(argv, " "))
	for i, f := range fields {
		if f == "-config" && i+1 < len(fields) {
			return fields[i+1]
		}
		if v, ok := strings.CutPrefix(f, "-config="); ok {
			return v
		}
	}
	return ""
}

// versionCheck: the Kubernetes copy's Litestream must read the Nomad copy's
// on-bucket format (0.5 writes LTX files, 0.3 generations: a 0.3 restore of
// a 0.5 replica finds nothing), or the final sync restores nothing.
func versionCheck(svc string, job *api.Job, kv []string, where string) GateCheck {
	c := GateCheck{ID: "litestream-version", Checked: "the Kubernetes copy of " + svc + " runs the Nomad job's Litestream version (the on-bucket formats of 0.3 and 0.5 differ)"}
	nv := litestream.NomadVersions(job)
	mm := map[string]bool{}
	for _, v := range slices.Concat(nv, kv) {
		mm[litestream.MajorMinor(v)] = true
	}
	switch {
	case len(nv) == 0 || len(kv) == 0:
		c.Status, c.Found = Warn, fmt.Sprintf("Nomad job: %v; %s: %v (a version could not be read from an image tag)", nv, where, kv)
		c.Next = "Compare the Litestream images by hand: a 0.3 restore cannot read a 0.5 replica."
	case len(mm) > 1:
		c.Status, c.Found = Block, fmt.Sprintf("Nomad job runs Litestream %s, %s runs %s", strings.Join(nv, ", "), where, strings.Join(kv, ", "))
		c.Next = fmt.Sprintf("Set overseerr_litestream_version = %q in terraform.tfvars and apply the services stage.", nv[0])
	default:
		c.Status, c.Found = Pass, fmt.Sprintf("Nomad: %s; %s: %s", strings.Join(nv, ", "), where, strings.Join(kv, ", "))
	}
	return c
}

func litestreamChecks(ctx context.Context, in GateInput, job *api.Job) []GateCheck {
	nb, ok := NomadBuckets(job)
	if !ok {
		return nil
	}
	svc := in.Target.Service
	c := GateCheck{ID: "litestream-bucket", Checked: "the Kubernetes copy of " + svc + " replicates to a different Litestream bucket than the Nomad copy"}
	if in.Deps == nil || in.Deps.Kube == nil {
		c.Status, c.Found = Block, "no cluster configured"
		return []GateCheck{c}
	}
	kb, kv, where, err := kubeBuckets(ctx, in.Deps, svc)
	switch {
	case err != nil:
		c.Status, c.Found, c.Next = Block, err.Error(), "Check the kubeconfig's access to the namespace."
	case where == "":
		c.Status, c.Found = Block, fmt.Sprintf("Nomad job %s replicates to %s; no StatefulSet for %s in namespace %s", deref(job.ID), strings.Join(nb, ", "), svc, in.Deps.Decisions.Namespace())
		c.Next = "A Litestream service runs on Kubernetes as a StatefulSet: apply the services stage (migrate-tui apply --stage services)."
	case len(kb) == 0:
		c.Status, c.Found = Block, fmt.Sprintf("Nomad job replicates to %s; %s names no bucket in its litestream containers or their ConfigMaps", strings.Join(nb, ", "), where)
		c.Next = "Set litestream_bucket (terraform.tfvars) and apply the services stage."
	case len(nb) == 0:
		c.Status, c.Found = Unobservable, fmt.Sprintf("the Nomad job's litestream tasks name no bucket that could be read (args, env, templates); %s uses %s", where, strings.Join(kb, ", "))
		c.Next = "Compare the buckets by hand (nomad job inspect " + in.Target.job() + "), then pass --accept-unobserved."
		if in.AcceptUnobserved {
			c.Status = Warn
		}
	default:
		var shared []string
		for _, b := range kb {
			if slices.Contains(nb, b) {
				shared = append(shared, b)
			}
		}
		if len(shared) > 0 {
			c.Status, c.Found = Block, fmt.Sprintf("both copies replicate to %s: two writers in one Litestream bucket corrupt each other's generations", strings.Join(shared, ", "))
			c.Next = "Give the Kubernetes copy its own bucket (litestream_bucket in terraform.tfvars, e.g. " + svc + "-k8s-litestream) and apply the services stage."
		} else {
			c.Status, c.Found = Pass, fmt.Sprintf("Nomad: %s; Kubernetes (%s): %s", strings.Join(nb, ", "), where, strings.Join(kb, ", "))
		}
	}
	checks := []GateCheck{c}
	if err == nil && where != "" {
		checks = append(checks, versionCheck(svc, job, kv, where))
	}
	sync := GateCheck{ID: "data-sync-order", Status: Warn,
		Checked: "the final data sync of " + svc + "'s SQLite database",
		Found:   "migrate-tui cannot move the data: the last writes on Nomad reach Kubernetes only through Litestream, in this order",
		Next: fmt.Sprintf("1) stop Nomad writes (this cutover stops job %s); 2) make sure its litestream sidecar replicated the last transactions to %s before it exited (litestream generations/snapshots on that bucket); 3) restore that replica into the Kubernetes copy: scale its StatefulSet to 0, delete its database volume and its own bucket's replica (the PoC's data), scale to 1: its init container restores from %s (seed.yml) when its own bucket is empty. Out of order, writes made in between are lost.",
			in.Target.job(), strings.Join(nb, ", "), firstOr(nb, svc+"-litestream"))}
	return append(checks, sync)
}

func firstOr(xs []string, def string) string {
	if len(xs) > 0 {
		return xs[0]
	}
	return def
}
