package sshinstall

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// k3sProcesses are the process names (comm) that hold K3s's ports on a node
// where K3s already runs: the server (apiserver, supervisor, kubelet and
// embedded etcd live in k3s-server), the agent (kubelet) and Cilium's agent
// for its health/Hubble ports. A rerun of an interrupted install finds them
// and must go on; anything else on those ports still fails.
var k3sProcesses = map[string]bool{"k3s": true, "k3s-server": true, "k3s-agent": true, "k3s-init": true, "cilium-agent": true}

// portOwner is who holds a listening port, from `ss -H -lntup`.
type portOwner struct {
	Procs []string // "name(pid)"; empty for kernel sockets (VXLAN, WireGuard)
}

var ssProc = regexp.MustCompile(`\("([^"]*)",pid=([0-9]+)`)

// parseSS reads `ss -H -lntup` output into owners keyed by "6443/tcp".
func parseSS(out string) map[string]portOwner {
	owners := map[string]portOwner{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || (f[0] != "tcp" && f[0] != "udp") {
			continue
		}
		local := f[4]
		i := strings.LastIndex(local, ":")
		if i < 0 {
			continue
		}
		port, err := strconv.Atoi(local[i+1:])
		if err != nil {
			continue
		}
		key := fmt.Sprintf("%d/%s", port, f[0])
		o := owners[key]
		for _, m := range ssProc.FindAllStringSubmatch(line, -1) {
			o.Procs = append(o.Procs, m[1]+"("+m[2]+")")
		}
		owners[key] = o
	}
	return owners
}

// procName is "k3s-server" of "k3s-server(123)".
func procName(p string) string {
	if i := strings.LastIndex(p, "("); i >= 0 {
		return p[:i]
	}
	return p
}

// splitBusyByOwner sorts busy ports ("6443/tcp") into those K3s itself
// holds and the others, with the owning processes named. A port with no
// owning process is a kernel socket (flannel's VXLAN on 8472/udp,
// WireGuard): it counts as K3s's only where K3s has run (k3sRan).
func splitBusyByOwner(busy []string, owners map[string]portOwner, k3sRan bool) (mine, foreign []string) {
	for _, b := range busy {
		o, seen := owners[b]
		if !seen {
			foreign = append(foreign, b+" (owner unknown)")
			continue
		}
		if len(o.Procs) == 0 {
			if k3sRan {
				mine = append(mine, b+" (kernel socket)")
			} else {
				foreign = append(foreign, b+" (a kernel socket)")
			}
			continue
		}
		all := true
		for _, p := range o.Procs {
			all = all && k3sProcesses[procName(p)]
		}
		procs := append([]string(nil), o.Procs...)
		sort.Strings(procs)
		if all {
			mine = append(mine, b+" ("+strings.Join(procs, ", ")+")")
		} else {
			foreign = append(foreign, b+" held by "+strings.Join(procs, ", "))
		}
	}
	return mine, foreign
}

// busyOwners asks the node who holds the busy ports. ss needs root to show
// other users' processes.
func busyOwners(ctx context.Context, e *Env, n Node, busy []string) (mine, foreign []string, err error) {
	c := e.Clients[n.Name]
	if c == nil {
		return nil, nil, fmt.Errorf("no SSH connection to %s", n.Name)
	}
	r, err := c.Run(ctx, "ss -H -lntup", nil, true)
	if err != nil {
		return nil, nil, err
	}
	if r.Exit != 0 {
		return nil, nil, fmt.Errorf("ss -H -lntup exited %d: %s (install iproute2 to let migrate-tui tell K3s's own ports from others)", r.Exit, tail(r.Stderr, 2))
	}
	ran, err := k3sPresent(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	mine, foreign = splitBusyByOwner(busy, parseSS(r.Stdout), ran)
	return mine, foreign, nil
}
