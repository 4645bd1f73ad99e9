package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"

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
	Node         string `json:"node"`
	NodeUsedMB   int64  `json:"node_used_mib"`     // metrics API: the node's working set
	PlatformMB   int64  `json:"platform_pods_mib"` // metrics API: every non-PoC pod on the node
	PlatformPods int    `json:"platform_pods"`
	// CPU from the metrics API, in millicores: the node's and the non-PoC
	// pods' on it.
	NodeCPUMilli     int64            `json:"node_cpu_millicores"`
	PlatformCPUMilli int64            `json:"platform_pods_cpu_millicores"`
	Nomad            *NomadNodeMemory `json:"nomad,omitempty"`
	// EstimateMB is what the decisions' memory estimate put on this node
	// (K3s + its own platform parts; 0: not a decided node).
	EstimateMB int64 `json:"estimate_mb,omitempty"`
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
		c, _, _ := unstructured.NestedString(nm.Object, "usage", "cpu")
		if q, err := resource.ParseQuantity(c); err == nil {
			get(nm.GetName()).NodeCPUMilli = q.MilliValue()
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
		var total, milli int64
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			m, _, _ := unstructured.NestedString(cm, "usage", "memory")
			if q, err := resource.ParseQuantity(m); err == nil {
				total += q.Value()
			}
			cpu, _, _ := unstructured.NestedString(cm, "usage", "cpu")
			if q, err := resource.ParseQuantity(cpu); err == nil {
				milli += q.MilliValue()
			}
		}
		o := get(node)
		o.PlatformMB += total / (1 << 20)
		o.PlatformCPUMilli += milli
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
		l := fmt.Sprintf("%s: node %d MiB / %dm CPU in use, K8s platform pods %d MiB / %dm CPU (%d pods)", o.Node, o.NodeUsedMB, o.NodeCPUMilli, o.PlatformMB, o.PlatformCPUMilli, o.PlatformPods)
		if o.Nomad != nil {
			l += fmt.Sprintf("; Nomad host %d MiB in use, allocations %d MiB, outside allocations (Nomad+Consul agents, OS) %d MiB; CPU host %d MHz, allocations %d MHz, outside allocations %d MHz",
				o.Nomad.HostUsedMB, o.Nomad.AllocsMB, o.Nomad.AgentsMB(), o.Nomad.HostCPUMHz, o.Nomad.AllocsCPUMHz, o.Nomad.AgentsCPUMHz())
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
