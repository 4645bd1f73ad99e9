package decisions

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"migrate-tui/internal/status"
)

// MemoryFigure is one sourced memory figure of the estimate.
type MemoryFigure struct {
	ID        string `json:"id"`
	Component string `json:"component"`
	MB        int    `json:"mb"`
	// Per says where it counts: "server", "node" (every node) or
	// "cluster" (once, on whichever node the scheduler picks).
	Per    string `json:"per"`
	Source string `json:"source"`
}

// memoryFigures are the figures the estimate adds up. Each is a measurement
// or a request from a cited source; research.md lists them. The sum errs
// high: the PoC's 500 MB per server counted the control plane, Cilium and
// CoreDNS, not the kubelet and containerd that K3s's profiling adds.
var memoryFigures = []MemoryFigure{
	{"k3s-control-plane", "K3s control plane (etcd ~50, apiserver ~200, controller-manager ~50, scheduler ~20)", 320, "server",
		"PoC measurement, January 2026 (homelab.md, Outcome)"},
	{"k3s-agent", "K3s agent: kubelet, containerd, k3s agent", 268, "node",
		"docs.k3s.io/reference/resource-profiling: K3s agent on a Pi 4B, 268 M"},
	{"coredns", "CoreDNS", 20, "cluster", "PoC measurement (homelab.md, Outcome)"},
	{"cilium-agent", "Cilium agent", 150, "node",
		"PoC measurement (homelab.md); community reports 150-450 MiB per node on small clusters (cilium/cilium#23930, #28772)"},
	{"linkerd-control-plane", "Linkerd control plane", 365, "cluster", "Linkerd's 2021 benchmark: control plane 365 MB (facts.md)"},
	{"linkerd-proxies", "Linkerd proxies, 26 MB per meshed PoC pod", 26, "cluster", "Linkerd's 2021 benchmark: max proxy 26 MB (facts.md)"},
	{"istiod", "istiod", 597, "cluster", "Linkerd's 2021 benchmark: Istio control plane 597 MB (facts.md)"},
	{"ztunnel", "ztunnel", 12, "node", "istio.io docs/ops/deployment/performance-and-scalability (1.24): a ztunnel ~12 MB at 1000 requests/s"},
	{"traefik", "Traefik on K3s", 64, "cluster", "its memory request in k8s/ingress/manifests/traefik.yaml"},
	{"vpa-recommender", "VPA recommender", 200, "cluster", "its memory request in k8s/core/vpa/manifests/vpa.yaml"},
	{"vpa-updater", "VPA updater", 500, "cluster", "memory request in vertical-pod-autoscaler deploy/updater-deployment.yaml (VPA_VERSION)"},
	{"vpa-admission", "VPA admission controller", 200, "cluster", "memory request in vertical-pod-autoscaler deploy/admission-controller-deployment.yaml (VPA_VERSION)"},
}

// MemoryFigures returns the figures, for research.md and decide --list.
func MemoryFigures() []MemoryFigure { return slices.Clone(memoryFigures) }

func figure(id string) MemoryFigure {
	for _, f := range memoryFigures {
		if f.ID == id {
			return f
		}
	}
	panic("no memory figure " + id)
}

// MemoryPart is one component on a node, or cluster-wide.
type MemoryPart struct {
	Component string `json:"component"`
	MB        int    `json:"mb"`
}

// NodeMemory is one node's estimate beside the room it has.
type NodeMemory struct {
	Node       string       `json:"node"`
	Role       string       `json:"role"`
	EstimateMB int          `json:"estimate_mb"`
	Parts      []MemoryPart `json:"parts"`
	// FreeMB is the memory beside Nomad's allocations and reservations
	// from preflight; -1 when preflight has not read it.
	FreeMB int `json:"free_mb"`
	// Fits is false when the node's own K3s and platform parts exceed FreeMB.
	Fits bool `json:"fits"`
}

// MemoryReport is the estimate for one set of answers.
type MemoryReport struct {
	Nodes []NodeMemory `json:"nodes"`
	// Cluster are the components that run once, on whichever node has room.
	Cluster   []MemoryPart `json:"cluster"`
	ClusterMB int          `json:"cluster_mb"`
	// Known says every node's free memory was read (preflight ran).
	Known bool `json:"known"`
	// Fits: every node holds its own parts and the cluster-wide ones fit
	// into what is left (the largest into one node).
	Fits     bool     `json:"fits"`
	Problems []string `json:"problems,omitempty"`
}

// the keys the estimate depends on, in the order a recommendation changes them.
var memoryKeys = []string{"control_plane_topology", "service_mesh", "vpa_update_mode", "ingress_mode"}

// MemoryKey says whether the decision changes the memory estimate.
func MemoryKey(key string) bool { return slices.Contains(memoryKeys, key) }

// EstimateMemory adds up, per node, what K3s and the platform the answers
// choose would use, and compares it with each node's free memory from
// preflight (c.NodeMemoryMB).
func EstimateMemory(a Answers, c Context) MemoryReport {
	e := Effective(a)
	nodes := e.Nodes()
	if e.Str("control_plane_topology") != "" {
		nodes = rolesFor(nodes, e.Str("control_plane_topology"), c)
	}
	var perNode, perServer, cluster []MemoryFigure
	perServer = append(perServer, figure("k3s-control-plane"))
	perNode = append(perNode, figure("k3s-agent"))
	cluster = append(cluster, figure("coredns"))
	pods := len(e.List("poc_services"))
	switch e.Str("service_mesh") {
	case "cilium":
		perNode = append(perNode, figure("cilium-agent"))
	case "linkerd":
		p := figure("linkerd-proxies")
		p.MB *= pods
		cluster = append(cluster, figure("linkerd-control-plane"), p)
	case "istio-ambient":
		perNode = append(perNode, figure("ztunnel"))
		cluster = append(cluster, figure("istiod"))
	}
	if m := e.Str("ingress_mode"); m == "traefik-behind-external" || m == "bundled-traefik" {
		cluster = append(cluster, figure("traefik"))
	}
	cluster = append(cluster, figure("vpa-recommender"))
	if e.Str("vpa_update_mode") != "Off" {
		cluster = append(cluster, figure("vpa-updater"), figure("vpa-admission"))
	}

	r := MemoryReport{Known: len(nodes) > 0, Fits: true}
	for _, f := range cluster {
		r.Cluster = append(r.Cluster, MemoryPart{f.Component, f.MB})
		r.ClusterMB += f.MB
	}
	headroom, largest := 0, 0
	for _, n := range nodes {
		nm := NodeMemory{Node: n.Name, Role: n.Role, FreeMB: -1, Fits: true}
		figs := perNode
		if n.Role == "server" {
			figs = append(slices.Clone(perServer), perNode...)
		}
		for _, f := range figs {
			nm.Parts = append(nm.Parts, MemoryPart{f.Component, f.MB})
			nm.EstimateMB += f.MB
		}
		if free, ok := c.NodeMemoryMB[strings.ToLower(n.Name)]; ok {
			nm.FreeMB = free
			if left := free - nm.EstimateMB; left < 0 {
				nm.Fits = false
				r.Problems = append(r.Problems, fmt.Sprintf("%s (%s) needs about %d MB for K3s and the platform but has %d MB free beside Nomad", n.Name, n.Role, nm.EstimateMB, free))
			} else {
				headroom += left
				largest = max(largest, left)
			}
		} else {
			r.Known = false
		}
		r.Fits = r.Fits && nm.Fits
		r.Nodes = append(r.Nodes, nm)
	}
	if r.Known && r.Fits {
		biggest := 0
		for _, p := range r.Cluster {
			biggest = max(biggest, p.MB)
		}
		switch {
		case r.ClusterMB > headroom:
			r.Fits = false
			r.Problems = append(r.Problems, fmt.Sprintf("the cluster-wide components need about %d MB but the nodes have %d MB left together", r.ClusterMB, headroom))
		case biggest > largest:
			r.Fits = false
			r.Problems = append(r.Problems, fmt.Sprintf("the largest cluster-wide component needs about %d MB but no node has more than %d MB left", biggest, largest))
		}
	}
	if !r.Known {
		r.Fits = false
	}
	return r
}

// rolesFor gives the nodes the roles the topology implies, as Derive does:
// with one server, the node with the most free memory carries it.
func rolesFor(nodes []Node, topology string, c Context) []Node {
	out := slices.Clone(nodes)
	if topology != "1-server-2-agents" {
		for i := range out {
			out[i].Role = "server"
		}
		return out
	}
	servers := 0
	for _, n := range out {
		if n.Role == "server" {
			servers++
		}
	}
	if servers == 1 {
		return out // the operator's own choice of server stands
	}
	best, server := -1, 0
	for i, n := range out {
		if m, ok := c.NodeMemoryMB[strings.ToLower(n.Name)]; ok && m > best {
			best, server = m, i
		}
	}
	for i := range out {
		out[i].Role = "agent"
		if i == server {
			out[i].Role = "server"
		}
	}
	return out
}

// MemoryRecommendation is the option set that fits, nearest to the answers.
type MemoryRecommendation struct {
	Changes map[string]string `json:"changes"`
	Report  MemoryReport      `json:"report"`
	Text    string            `json:"text"`
}

// RecommendMemory returns nil when the answers fit (or the free memory is
// unknown); otherwise the answers with the fewest changed decisions among
// topology, mesh, VPA mode and ingress that fit every node (among those, the
// one leaving the tightest node the most room), or a recommendation with no
// changes whose text says nothing fits. Refused combinations are skipped.
func RecommendMemory(a Answers, c Context) *MemoryRecommendation {
	cur := EstimateMemory(a, c)
	if cur.Fits || !cur.Known {
		return nil
	}
	e := Effective(a)
	choices := make([][]string, len(memoryKeys))
	for i, k := range memoryKeys {
		choices[i] = []string{e.Str(k)}
		for _, o := range Get(k).Options {
			if o.Value != e.Str(k) && !(k == "service_mesh" && o.Value == "none") {
				choices[i] = append(choices[i], o.Value)
			}
		}
		if k == "service_mesh" && e.Str(k) != "none" {
			choices[i] = append(choices[i], "none") // last: it gives up SC-008
		}
	}
	type cand struct {
		changes map[string]string
		rank    []int
		report  MemoryReport
	}
	var best *cand
	var walk func(i int, picked []int)
	walk = func(i int, picked []int) {
		if i == len(memoryKeys) {
			try := a.Clone()
			ch := map[string]string{}
			for j, k := range memoryKeys {
				if picked[j] > 0 {
					try[k] = choices[j][picked[j]]
					ch[k] = choices[j][picked[j]]
				}
			}
			if _, ok := ch["control_plane_topology"]; ok {
				// decide derives the roles from the topology (Derive).
				try["nodes"] = rolesFor(e.Nodes(), ch["control_plane_topology"], c)
			}
			if len(Check(try, c)) > 0 {
				return // a refused combination is no recommendation
			}
			r := EstimateMemory(try, c)
			if !r.Fits {
				return
			}
			// Fewest changes first, then the most room on the tightest
			// node, then catalogue order.
			tightest := -1
			for _, n := range r.Nodes {
				if left := n.FreeMB - n.EstimateMB; tightest < 0 || left < tightest {
					tightest = left
				}
			}
			rank := []int{len(ch), -tightest}
			rank = append(rank, picked...)
			if best == nil || slices.Compare(rank, best.rank) < 0 {
				best = &cand{ch, rank, r}
			}
			return
		}
		for p := range choices[i] {
			walk(i+1, append(picked, p))
		}
	}
	walk(0, nil)
	if best == nil {
		return &MemoryRecommendation{Changes: map[string]string{}, Report: cur,
			Text: "no combination of topology, mesh, VPA mode and ingress fits: " + strings.Join(cur.Problems, "; ") + ". Free memory on the nodes (lower Nomad's reservations) or leave the smallest node out of nodes"}
	}
	var keys []string
	for k := range best.changes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+best.changes[k])
	}
	return &MemoryRecommendation{Changes: best.changes, Report: best.report,
		Text: "fits with " + strings.Join(parts, ", ") + " (migrate-tui decide --set " + strings.Join(parts, " --set ") + ")"}
}

// MemoryLines are the report as lines for the decision screens: each node's
// estimate beside its free memory, then the cluster-wide part.
func MemoryLines(r MemoryReport) []string {
	var out []string
	for _, n := range r.Nodes {
		// Unknown free memory is unobservable, not a pass.
		free, mark := "free memory unknown (run preflight)", status.Unobservable.Mark()
		if n.FreeMB >= 0 {
			free = fmt.Sprintf("%d MB free beside Nomad", n.FreeMB)
			mark = status.Pass.Mark()
			if !n.Fits {
				mark = status.Fail.Mark()
			}
		}
		out = append(out, fmt.Sprintf("%s %s (%s): K3s + platform ~%d MB, %s", mark, n.Node, n.Role, n.EstimateMB, free))
	}
	out = append(out, fmt.Sprintf("  once in the cluster: ~%d MB (%s)", r.ClusterMB, partNames(r.Cluster)))
	return out
}

func partNames(ps []MemoryPart) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprintf("%s %d", p.Component, p.MB))
	}
	return strings.Join(s, ", ")
}
