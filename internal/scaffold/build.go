package scaffold

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Options are the settings of a scaffold; nothing about the homelab is
// hard-wired in the generated module beyond what the job says.
type Options struct {
	// Service names the module (default: the job's name as a DNS label).
	Service string
	// VolumeSize is the default size of the claims made from the job's
	// volumes (the module's volume_size; default 1Gi).
	VolumeSize string
}

// DefaultVolumeSize is volume_size's default when Options gives none.
const DefaultVolumeSize = "1Gi"

// Module is a scaffolded module: its files (relative paths) and the report.
type Module struct {
	Service  string            `json:"service"`
	Job      string            `json:"job"`
	Files    map[string]string `json:"-"`
	Mapped   []Item            `json:"mapped"`
	Unmapped []Item            `json:"unmapped"`
}

// the model the emitters turn into files
type model struct {
	svc        string
	job        *api.Job
	groups     []*group
	cur        *group     // the group being mapped
	curLS      bool       // the task being mapped runs Litestream
	ls         litestream // what the Litestream tasks replicate
	volumeSize string
	volumes    []volume     // PVCs, deduplicated by claim name
	secrets    []secret     // ExternalSecrets
	configs    []configFile // ConfigMaps
	host       string
	mws        []string          // the router's middlewares, as the tag names them
	mwDefs     map[string]*mwDef // the middlewares the job's tags define
	mwRefs     []string          // Middleware objects the IngressRoute references
	mwOther    []string          // router middlewares the module does not make
	upstream   []string
	mapped     []Item
	unmapped   []Item
}

type group struct {
	name, obj string // Nomad group, Kubernetes object name
	kind      string // Deployment, Job, CronJob
	replicas  int
	podSpec   map[string]any
	ports     []port
	httpPort  int
	rwo       bool
	main      bool
	labels    map[string]string
	cron, tz  string
	noOverlap bool
	// the agent-injector variant (nil: the group reads no Vault secret)
	injSpec map[string]any
	injAnn  map[string]any
}

type port struct {
	name string
	port int
}

type volume struct {
	claim, dir, access string
	readOnly           bool
}

// secret is one Vault template: an ExternalSecret with external-secrets,
// an agent-injector file with agent-injector (the same template's reads).
type secret struct {
	name      string
	keys      []secretKey
	group     string // the workload (group object) whose pod reads it
	container string // the container the Nomad task became
	env       bool   // env = true: exported into the container's process
	file      string // the injector's file name (agent-inject-secret-<file>)
	dir       string // file templates: the directory the file lands in
	volume    string // file templates: the pod volume of the ESO Secret
	data      string // file templates: the Nomad template, verbatim
}

// secretKey is one Vault read: the Secret's key, the remoteRef key (path
// without the KV mount), the property, and the path as Nomad read it.
type secretKey struct {
	secretKey, key, property, path string
	own                            bool // key is the module's litestream_vault_key
}

type configFile struct {
	name, file, data string
}

var dnsBad = regexp.MustCompile(`[^a-z0-9-]+`)

// volumeSize is what the module's volume_size validation accepts.
var volumeSize = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$`)

// dnsLabel lowercases s and keeps it a DNS label.
func dnsLabel(s string) string {
	s = strings.Trim(dnsBad.ReplaceAllString(strings.ToLower(strings.ReplaceAll(s, "_", "-")), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (m *model) ok(where, what, id, result string) {
	m.mapped = append(m.mapped, Item{Where: where, What: what, Mapping: id, Result: result})
}

func (m *model) no(where, what, reason string) {
	m.unmapped = append(m.unmapped, Item{Where: where, What: what, Reason: reason})
}

// Build maps job onto a module. It fails only when there is nothing to
// make a workload of; everything else it cannot map lands in Unmapped.
func Build(job *api.Job, o Options) (*Module, error) {
	if job == nil || str(job.Name) == "" && str(job.ID) == "" {
		return nil, fmt.Errorf("scaffold: the job has no name; pass a job read from Nomad (nomad job inspect NAME)")
	}
	jobName := str(job.Name)
	if jobName == "" {
		jobName = str(job.ID)
	}
	svc := o.Service
	if svc == "" {
		svc = dnsLabel(jobName)
	}
	if svc != dnsLabel(svc) || svc == "" || svc == "shared" || svc == "poc-namespace" {
		return nil, fmt.Errorf("scaffold: service name %q is not a usable module name (a DNS label other than shared and poc-namespace); pass --service", svc)
	}
	size := o.VolumeSize
	if size == "" {
		size = DefaultVolumeSize
	}
	if q, err := resource.ParseQuantity(size); err != nil || q.Sign() <= 0 || !volumeSize.MatchString(size) {
		return nil, fmt.Errorf("scaffold: volume size %q is not a positive Kubernetes quantity such as 10Gi; pass --volume-size 10Gi", size)
	}
	m := &model{svc: svc, job: job, volumeSize: size}
	m.jobLevel()
	for i, tg := range job.TaskGroups {
		m.group(tg, i == 0)
	}
	if len(m.groups) == 0 {
		return nil, fmt.Errorf("scaffold: job %s has no task group with a docker task; nothing to make a workload of", jobName)
	}
	m.resolveMiddlewares()
	if err := m.injector(); err != nil {
		return nil, err
	}
	mod := &Module{Service: svc, Job: jobName}
	files, err := m.emit()
	if err != nil {
		return nil, err
	}
	mod.Files, mod.Mapped, mod.Unmapped = files, m.mapped, m.unmapped
	if mod.Mapped == nil {
		mod.Mapped = []Item{}
	}
	if mod.Unmapped == nil {
		mod.Unmapped = []Item{}
	}
	return mod, nil
}

func (m *model) jobLevel() {
	j := m.job
	w := "job"
	switch t := str(j.Type); t {
	case "", "service":
		m.ok(w, "type = service", "service", "Deployment")
	case "batch":
		if j.Periodic != nil && str(j.Periodic.Spec) != "" {
			m.ok(w, "periodic "+str(j.Periodic.Spec), "periodic", "CronJob")
		} else {
			m.ok(w, "type = batch", "batch", "Job")
		}
	default:
		m.no(w, "type = "+t, "no generated counterpart (system/sysbatch would be a DaemonSet); made a Deployment")
	}
	for _, c := range j.Constraints {
		m.constraintNote(w, c)
	}
	if len(j.Affinities) > 0 {
		m.no(w, fmt.Sprintf("%d affinities", len(j.Affinities)), "preferences are not mapped; add nodeAffinity by hand")
	}
	if len(j.Spreads) > 0 {
		m.no(w, fmt.Sprintf("%d spreads", len(j.Spreads)), "add topologySpreadConstraints by hand")
	}
	if j.Update != nil {
		m.no(w, "update stanza", "rolling-update tuning is not mapped; the Deployment uses its defaults")
	}
	if len(j.Meta) > 0 {
		m.no(w, "meta "+strings.Join(sortedKeys(j.Meta), ","), "job meta has no counterpart")
	}
	if len(j.Datacenters) > 0 {
		m.ok(w, "datacenters "+strings.Join(j.Datacenters, ","), "node", "ignored: the cluster is one datacenter")
	}
}

func sortedKeys[V any](mp map[string]V) []string {
	ks := make([]string, 0, len(mp))
	for k := range mp {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// constraint returns the nodeSelector entry a constraint maps to.
func constraint(c *api.Constraint) (string, string, bool) {
	if c == nil || (c.Operand != "" && c.Operand != "=" && c.Operand != "==") {
		return "", "", false
	}
	switch c.LTarget {
	case "${attr.cpu.arch}":
		return "kubernetes.io/arch", archName(c.RTarget), true
	case "${node.unique.name}":
		return "kubernetes.io/hostname", c.RTarget, true
	}
	return "", "", false
}

// archName turns Nomad's attr.cpu.arch (Go's GOARCH) into the node label's.
func archName(a string) string {
	if a == "aarch64" {
		return "arm64"
	}
	if a == "x86_64" {
		return "amd64"
	}
	return a
}

func (m *model) constraintNote(w string, c *api.Constraint) {
	if k, v, ok := constraint(c); ok {
		id := "node"
		if k == "kubernetes.io/arch" {
			id = "arch"
		}
		m.ok(w, fmt.Sprintf("constraint %s %s %s", c.LTarget, c.Operand, c.RTarget), id, "nodeSelector "+k+": "+v)
		return
	}
	m.no(w, fmt.Sprintf("constraint %s %s %s", c.LTarget, c.Operand, c.RTarget), "no nodeSelector counterpart; add nodeAffinity by hand")
}

// volumeName is the pod volume / claim suffix of a Nomad volume: the type
// of glusterfs_<svc>_<type> sources (the storage decision's naming),
// else the volume's name.
func (m *model) volumeSuffix(v *api.VolumeRequest) string {
	src := v.Source
	if rest, ok := strings.CutPrefix(src, "glusterfs_"); ok {
		parts := strings.SplitN(rest, "_", 2)
		if len(parts) == 2 && parts[1] != "" {
			return dnsLabel(parts[1])
		}
	}
	return dnsLabel(v.Name)
}

func jsonPath(p string) string { return path.Clean("/" + p) }
