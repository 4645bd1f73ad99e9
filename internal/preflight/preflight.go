// Package preflight runs the wizard's first phase: tools on PATH, Nomad
// reachable, the node inventory and a baseline of every Nomad job's health.
// Each check is a function that returns a Result; Record puts it into the
// state. Nothing here prints or exits.
package preflight

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

// Nomad is what preflight needs from a Nomad client (*nomadwatch.Client).
type Nomad interface {
	nomadwatch.Nomad
	Ping(ctx context.Context) error
	CheckAccess(ctx context.Context) error
}

// Env is what the checks run against; tests pass a simulator and a fake PATH.
type Env struct {
	LookPath func(string) (string, error) // default exec.LookPath
	// Connect builds the Nomad client (default: nomadwatch.NewClient from
	// NOMAD_ADDR, NOMAD_TOKEN, NOMAD_CACERT ... in the environment).
	Connect func() (Nomad, error)
	Now     func() time.Time
}

func (e Env) lookPath(name string) (string, error) {
	if e.LookPath != nil {
		return e.LookPath(name)
	}
	return exec.LookPath(name)
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e Env) connect() (Nomad, error) {
	if e.Connect != nil {
		return e.Connect()
	}
	c, err := nomadwatch.NewClient("", "")
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Result is one preflight step's outcome.
type Result struct {
	StepID   string
	Status   steps.Status // Done or Failed
	Evidence []string
	Err      error

	Tools     map[string]string
	NomadAddr string
	Inventory []nomadwatch.Node
	Baseline  *nomadwatch.Baseline
}

func failed(id string, err error, evidence ...string) Result {
	return Result{StepID: id, Status: steps.Failed, Err: err, Evidence: evidence}
}

// StepIDs are the preflight steps, in order.
var StepIDs = []string{"preflight.tools", "preflight.nomad", "preflight.inventory", "preflight.baseline"}

// Run runs one preflight step.
func Run(ctx context.Context, id string, env Env) Result {
	switch id {
	case "preflight.tools":
		return Tools(env)
	case "preflight.nomad", "preflight.inventory", "preflight.baseline":
		n, err := env.connect()
		if err != nil {
			return failed(id, err)
		}
		switch id {
		case "preflight.nomad":
			return Reach(ctx, n)
		case "preflight.inventory":
			return Inventory(ctx, n)
		default:
			return Baseline(ctx, n)
		}
	}
	return failed(id, fmt.Errorf("%s is not a preflight step", id))
}

// Tools finds terraform or tofu, and ssh.
func Tools(env Env) Result {
	r := Result{StepID: "preflight.tools", Tools: map[string]string{}}
	var missing []string
	tf := ""
	for _, name := range []string{"tofu", "terraform"} {
		if p, err := env.lookPath(name); err == nil {
			r.Tools[name] = p
			if tf == "" {
				tf = name
			}
		}
	}
	if tf == "" {
		missing = append(missing, "terraform or tofu (install OpenTofu from https://opentofu.org/docs/intro/install/ or Terraform; migrate-tui uses whichever it finds, tofu first)")
	} else {
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s: %s (used for the stages)", tf, r.Tools[tf]))
	}
	if p, err := env.lookPath("ssh"); err == nil {
		r.Tools["ssh"] = p
		r.Evidence = append(r.Evidence, "ssh: "+p)
	} else {
		missing = append(missing, "ssh (install openssh-client; the cluster stage installs K3s over SSH)")
	}
	if len(missing) > 0 {
		r.Status = steps.Failed
		r.Err = fmt.Errorf("looked on PATH for the tools the stages need; not found: %s", strings.Join(missing, "; "))
		return r
	}
	r.Status = steps.Done
	return r
}

// Reach checks that Nomad answers and the token may read what migrate-tui
// reads.
func Reach(ctx context.Context, n Nomad) Result {
	id := "preflight.nomad"
	if err := n.Ping(ctx); err != nil {
		return failed(id, err)
	}
	if err := n.CheckAccess(ctx); err != nil {
		return failed(id, err, "Nomad at "+n.Address()+" answers")
	}
	return Result{StepID: id, Status: steps.Done, NomadAddr: n.Address(),
		Evidence: []string{"Nomad at " + n.Address() + " answers; the token may read nodes, jobs and allocations"}}
}

// Inventory reads the nodes with their architecture, memory and what Nomad
// has allocated.
func Inventory(ctx context.Context, n Nomad) Result {
	id := "preflight.inventory"
	nodes, err := nomadwatch.Inventory(ctx, n)
	if err != nil {
		return failed(id, err)
	}
	if len(nodes) == 0 {
		return failed(id, fmt.Errorf("Nomad at %s lists no client nodes; K3s is installed on the nodes Nomad runs on, so preflight needs at least one", n.Address()))
	}
	r := Result{StepID: id, Status: steps.Done, Inventory: nodes, NomadAddr: n.Address()}
	for _, node := range nodes {
		r.Evidence = append(r.Evidence, node.String())
	}
	return r
}

// Baseline records every Nomad job's health now.
func Baseline(ctx context.Context, n Nomad) Result {
	id := "preflight.baseline"
	b, err := nomadwatch.TakeBaseline(ctx, n)
	if err != nil {
		return failed(id, err)
	}
	jobs, allocs := b.Running()
	return Result{StepID: id, Status: steps.Done, Baseline: &b, NomadAddr: n.Address(),
		Evidence: []string{fmt.Sprintf("%d jobs, %d running allocations recorded at %s", jobs, allocs, b.TakenAt.UTC().Format(time.RFC3339))}}
}

// Record stores a result in the state: the step's status and evidence, and
// what was found (tools, inventory, baseline). The token is never stored.
func Record(st *state.State, r Result, now time.Time) {
	msg := ""
	if r.Err != nil {
		msg = r.Err.Error()
	}
	st.Finish(r.StepID, r.Status, r.Evidence, msg, now)
	if r.Status != steps.Done {
		return
	}
	if st.Preflight == nil {
		st.Preflight = &state.Preflight{}
	}
	p := st.Preflight
	if r.Tools != nil {
		p.Tools = r.Tools
	}
	if r.NomadAddr != "" {
		p.NomadAddr = r.NomadAddr
	}
	if r.Inventory != nil {
		p.Inventory = r.Inventory
	}
	if r.Baseline != nil {
		p.Baseline = r.Baseline
	}
}

// SuggestedNodes turns the inventory into the nodes decision's value:
// names as DNS labels, the node with the most free memory first (it runs
// cluster-init, and is the only server with 1-server-2-agents), roles from
// the topology.
func SuggestedNodes(inv []nomadwatch.Node, topology string) []decisions.Node {
	sorted := append([]nomadwatch.Node(nil), inv...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return sorted[i].FreeMemoryMB() > sorted[j].FreeMemoryMB()
	})
	out := make([]decisions.Node, 0, len(sorted))
	for i, n := range sorted {
		role := "server"
		if topology == "1-server-2-agents" && i > 0 {
			role = "agent"
		}
		out = append(out, decisions.Node{Name: strings.ToLower(n.Name), Address: n.Address, Arch: n.Arch, Role: role})
	}
	return out
}

// MemoryLines explains, per node, what the chosen topology costs beside
// Nomad: the PoC measured about 500 MB per K3s server with Cilium; an agent
// about 270 MB (docs.k3s.io resource profiling) plus the CNI.
func MemoryLines(inv []nomadwatch.Node, nodes []decisions.Node) []string {
	role := map[string]string{}
	for _, n := range nodes {
		role[n.Name] = n.Role
	}
	var out []string
	for _, n := range inv {
		r := role[strings.ToLower(n.Name)]
		if r == "" {
			continue
		}
		cost := int64(500)
		if r == "agent" {
			cost = 270 + 150
		}
		line := fmt.Sprintf("%s %s: %d MB free beside Nomad, K3s %s ~%d MB", n.Name, n.Arch, n.FreeMemoryMB(), r, cost)
		if n.FreeMemoryMB() < cost*2 {
			line += " — tight"
		}
		out = append(out, line)
	}
	return out
}
