package checks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func sc010() Check {
	return Check{
		ID:     "SC-010",
		Title:  "Go/no-go documented from evidence",
		Proves: "Every other criterion's result and the measured per-node overhead of K3s and its platform, set against Nomad and Consul's, are in specs/003-nomad-to-kubernetes/decision.md with the operator's decision.",
		Hint:   "Fill in the decision in specs/003-nomad-to-kubernetes/decision.md and remove its draft marker line.",
		Final:  true,
		Run:    runSC010,
	}
}

// NodeOverhead is one node's measured overhead.
type NodeOverhead struct {
	Node         string
	NodeUsedMB   int64 // metrics API: the node's working set
	PlatformMB   int64 // metrics API: every non-PoC pod on the node
	PlatformPods int
	Nomad        *NomadNodeMemory
	// EstimateMB is what the decisions' memory estimate put on this node
	// (K3s + its own platform parts; 0: not a decided node).
	EstimateMB int64
}

func mib(q resource.Quantity) int64 { return q.Value() / (1 << 20) }

// measureOverhead reads the metrics API (nodes and pods, one list each).
func measureOverhead(ctx context.Context, d *Deps) ([]NodeOverhead, *Result) {
	s := d.Snapshot()
	nms, err := s.List(ctx, gvrNodeMetrics, "")
	if err != nil {
		r := apiFail("node metrics (metrics.k8s.io)", err)
		r.Hint = "The metrics API must answer (kubectl top nodes): K3s ships metrics-server unless k3s_disable lists it."
		return nil, &r
	}
	pms, err := s.List(ctx, gvrPodMetrics, "")
	if err != nil {
		r := apiFail("pod metrics (metrics.k8s.io)", err)
		return nil, &r
	}
	pods, err := s.Pods(ctx)
	if err != nil {
		r := apiFail("Pods", err)
		return nil, &r
	}
	nodeOf := map[string]string{}
	for _, p := range pods {
		nodeOf[p.Namespace+"/"+p.Name] = p.Spec.NodeName
	}
	by := map[string]*NodeOverhead{}
	get := func(n string) *NodeOverhead {
		if by[n] == nil {
			by[n] = &NodeOverhead{Node: n}
		}
		return by[n]
	}
	for _, nm := range nms {
		m, _, _ := unstructured.NestedString(nm.Object, "usage", "memory")
		if q, err := resource.ParseQuantity(m); err == nil {
			get(nm.GetName()).NodeUsedMB = mib(q)
		}
	}
	for _, pm := range pms {
		if pm.GetNamespace() == s.Namespace() {
			continue
		}
		node := nodeOf[pm.GetNamespace()+"/"+pm.GetName()]
		if node == "" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(pm.Object, "containers")
		var total int64
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			m, _, _ := unstructured.NestedString(cm, "usage", "memory")
			if q, err := resource.ParseQuantity(m); err == nil {
				total += q.Value()
			}
		}
		o := get(node)
		o.PlatformMB += total / (1 << 20)
		o.PlatformPods++
	}
	if d.Nomad != nil {
		if nm, err := d.Nomad.NodeMemory(ctx); err == nil {
			for i := range nm {
				n := nm[i]
				get(n.Node).Nomad = &n
			}
		}
	}
	for _, n := range d.Decisions.MemoryEstimate().Nodes {
		if o := by[n.Node]; o != nil {
			o.EstimateMB = int64(n.EstimateMB)
		}
	}
	var out []NodeOverhead
	for _, o := range by {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

func runSC010(ctx context.Context, d *Deps) Result {
	ov, errR := measureOverhead(ctx, d)
	if errR != nil {
		return *errR
	}
	if len(ov) == 0 {
		return fail("the metrics API answered with no nodes", "Wait a minute for metrics-server's first scrape (kubectl top nodes), then run the check again.")
	}
	var lines []string
	nomadMissing := false
	for _, o := range ov {
		l := fmt.Sprintf("%s: node %d MiB in use, K8s platform pods %d MiB (%d pods)", o.Node, o.NodeUsedMB, o.PlatformMB, o.PlatformPods)
		if o.Nomad != nil {
			l += fmt.Sprintf("; Nomad host %d MiB in use, allocations %d MiB, outside allocations (Nomad+Consul agents, OS) %d MiB", o.Nomad.HostUsedMB, o.Nomad.AllocsMB, o.Nomad.AgentsMB())
		} else {
			nomadMissing = true
			l += "; Nomad: no client stats for this node"
		}
		if o.EstimateMB > 0 {
			l += fmt.Sprintf("; estimate for K3s + platform ~%d MB (research.md, Memory estimate)", o.EstimateMB)
		}
		lines = append(lines, l)
	}
	var failed []string
	for _, r := range d.Prior {
		if r.Status == Fail {
			failed = append(failed, r.ID)
		}
	}
	evidence := strings.Join(lines, "\n")
	if d.Decision == nil {
		return warn(evidence+"\nno decision record configured (no repository directory)", "Run migrate-tui check --dir <repository> to write the draft decision record.")
	}
	path, written, err := d.Decision.Write(ctx, DecisionBody(d.Prior, ov, d.now()))
	if err != nil {
		return fail(fmt.Sprintf("%s\nwriting the decision record: %v", evidence, err), "Check that specs/003-nomad-to-kubernetes is writable.")
	}
	switch {
	case written:
		return warn(fmt.Sprintf("%s\ndraft written to %s; the decision itself is yours", evidence, path), "Fill in the decision in "+path+" and remove the draft marker line; the check passes once it is final.")
	case len(failed) > 0:
		return warn(fmt.Sprintf("%s\n%s is final but these criteria fail now: %s", evidence, path, strings.Join(failed, ", ")), "Revisit the decision in "+path+" against the failing criteria.")
	case nomadMissing:
		return warn(evidence+"\nthe Nomad side of the comparison is missing", "Set NOMAD_ADDR/NOMAD_TOKEN so Nomad's client stats can be read.")
	}
	return pass(fmt.Sprintf("%s\ndecision recorded in %s", evidence, path))
}

// DraftMarker marks a decision record migrate-tui may still overwrite.
const DraftMarker = "<!-- migrate-tui:draft (delete this line once the decision is yours) -->"

// DecisionBody renders the draft decision record.
func DecisionBody(prior []Result, ov []NodeOverhead, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n# Decision: Nomad to Kubernetes (K3s) — go / no-go\n\n", DraftMarker)
	fmt.Fprintf(&b, "Evidence gathered by `migrate-tui check` on %s.\n\n", now.UTC().Format(time.RFC3339))
	b.WriteString("## Decision\n\n**Decision:** _go / no-go / partial — yours to write_\n\n**Why:** _…_\n\n")
	b.WriteString("## Success criteria\n\n| ID | Criterion | Result | Evidence |\n|---|---|---|---|\n")
	for _, r := range prior {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.ID, r.Title, r.Status, mdCell(r.Evidence))
	}
	b.WriteString("\n## Overhead per node (memory)\n\n| Node | In use (metrics API) | K8s platform pods | Nomad: host in use | Nomad: allocations | Nomad + Consul agents and OS |\n|---|---|---|---|---|---|\n")
	for _, o := range ov {
		if o.Nomad != nil {
			fmt.Fprintf(&b, "| %s | %d MiB | %d MiB (%d pods) | %d MiB | %d MiB | %d MiB |\n", o.Node, o.NodeUsedMB, o.PlatformMB, o.PlatformPods, o.Nomad.HostUsedMB, o.Nomad.AllocsMB, o.Nomad.AgentsMB())
		} else {
			fmt.Fprintf(&b, "| %s | %d MiB | %d MiB (%d pods) | - | - | - |\n", o.Node, o.NodeUsedMB, o.PlatformMB, o.PlatformPods)
		}
	}
	b.WriteString("\nK3s runs its control plane inside the k3s process, not in pods: the node's working set minus the pods' is the closest the metrics API gets to it.\n")
	estimated := false
	for _, o := range ov {
		estimated = estimated || o.EstimateMB > 0
	}
	if estimated {
		b.WriteString("\n## Estimate beside the measurement\n\nThe decisions' estimate (research.md, Memory estimate: sourced figures that err high) for K3s and the platform on each node, beside what the metrics API measured.\n\n| Node | Estimate: K3s + platform | Measured: K8s platform pods | Measured: node in use |\n|---|---|---|---|\n")
		for _, o := range ov {
			if o.EstimateMB > 0 {
				fmt.Fprintf(&b, "| %s | ~%d MB | %d MiB | %d MiB |\n", o.Node, o.EstimateMB, o.PlatformMB, o.NodeUsedMB)
			}
		}
	}
	return b.String()
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// FileDecision writes the draft decision record to Path unless the file
// exists without the draft marker (the operator made it final).
type FileDecision struct{ Path string }

func (f FileDecision) Write(_ context.Context, body string) (string, bool, error) {
	old, err := os.ReadFile(f.Path)
	if err == nil && !strings.Contains(string(old), DraftMarker) {
		return f.Path, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
		return f.Path, false, err
	}
	tmp := f.Path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		return f.Path, false, err
	}
	return f.Path, true, os.Rename(tmp, f.Path)
}
