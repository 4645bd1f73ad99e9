package sshinstall

import (
	"context"
	"fmt"
	"migrate-tui/internal/status"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Node is one node to install, as in variables.tf's nodes.
type Node struct {
	Name    string
	Address string // host or host:port for SSH; the host is the node's LAN address
	Arch    string // amd64 or arm64
	Role    string // server or agent
	// NomadMemoryMB and NomadAllocatedMB come from nomadwatch.Inventory
	// (0: unknown).
	NomadMemoryMB, NomadAllocatedMB int64
}

// Host is the node's address without the SSH port.
func (n Node) Host() string { return hostOnly(n.Address) }

// Status of a preflight check: the one vocabulary (internal/status).
type Status = status.Status

const (
	Pass = status.Pass
	Fail = status.Fail
	Warn = status.Warn
	Skip = status.Skip
)

// CheckResult is one check on one node.
type CheckResult struct {
	Node     string `json:"node"`
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Evidence string `json:"evidence"`
	Hint     string `json:"hint,omitempty"`
}

// Env is what the checks look at.
type Env struct {
	Nodes   []Node
	Clients map[string]*Client // by node name
	Now     func() time.Time
	// Minimum memory left after Nomad's allocations, by role (MB).
	ServerMemoryMB, AgentMemoryMB int64
	// MinDiskMB free under /var/lib (default 5 GiB).
	MinDiskMB int64
	// MaxSkew between a node's clock and this machine's (default 2 s).
	MaxSkew time.Duration
	// Mesh is the service_mesh decision: its host ports are checked too.
	Mesh string
}

// Check is one preflight check, run per node.
type Check struct {
	ID, Title, Hint string
	Run             func(ctx context.Context, e *Env, n Node) CheckResult
}

// Checks are the preflight checks, in the order they are shown.
func Checks() []Check {
	return []Check{
		{ID: "arch", Title: "CPU architecture", Hint: "fix the node's arch in terraform.tfvars (nodes) to what uname -m reports", Run: checkArch},
		{ID: "memory-cgroup", Title: "memory cgroup enabled", Hint: "add cgroup_memory=1 cgroup_enable=memory to the boot command line (/boot/firmware/cmdline.txt on a Raspberry Pi, GRUB_CMDLINE_LINUX elsewhere) and reboot", Run: checkCgroup},
		{ID: "memory", Title: "memory left after Nomad", Hint: "free memory on the node (lower Nomad job reservations) or make it an agent (control_plane_topology = 1-server-2-agents)", Run: checkMemory},
		{ID: "ports-free", Title: "K3s ports free", Hint: "stop what listens there, or move it: K3s needs 6443, 10250, 2379-2380/tcp and 8472/udp", Run: checkPortsFree},
		{ID: "ports-reachable", Title: "K3s ports reachable from the other nodes", Hint: "open them in the node's firewall, e.g. firewall-cmd --permanent --add-port=6443/tcp --add-port=10250/tcp --add-port=2379-2380/tcp --add-port=8472/udp && firewall-cmd --reload", Run: checkReachable},
		{ID: "disk", Title: "disk space under /var/lib", Hint: "free space under /var/lib (K3s keeps images and etcd there)", Run: checkDisk},
		{ID: "time", Title: "clock in sync", Hint: "enable time sync on the node (timedatectl set-ntp true); etcd and certificates need agreeing clocks", Run: checkTime},
	}
}

// Preflight runs every check on every node, the nodes concurrently (each
// over its own SSH connection); results come in node order, then check order.
func Preflight(ctx context.Context, e *Env) []CheckResult {
	per := make([][]CheckResult, len(e.Nodes))
	var wg sync.WaitGroup
	for i, n := range e.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range Checks() {
				r := c.Run(ctx, e, n)
				r.Node, r.ID, r.Title = n.Name, c.ID, c.Title
				if r.Status != Pass && r.Hint == "" {
					r.Hint = c.Hint
				}
				per[i] = append(per[i], r)
			}
		}()
	}
	wg.Wait()
	var out []CheckResult
	for _, rs := range per {
		out = append(out, rs...)
	}
	return out
}

// Failed returns the failing results.
func Failed(rs []CheckResult) []CheckResult {
	var f []CheckResult
	for _, r := range rs {
		if r.Status == Fail {
			f = append(f, r)
		}
	}
	return f
}

func run(ctx context.Context, e *Env, n Node, cmd string) (string, CheckResult, bool) {
	c := e.Clients[n.Name]
	if c == nil {
		return "", CheckResult{Status: Fail, Evidence: "no SSH connection to " + n.Name}, false
	}
	r, err := c.Run(ctx, cmd, nil, false)
	if err != nil {
		return "", CheckResult{Status: Fail, Evidence: err.Error()}, false
	}
	if r.Exit != 0 {
		return "", CheckResult{Status: Fail, Evidence: fmt.Sprintf("%s exited %d: %s", firstWord(cmd), r.Exit, strings.TrimSpace(r.Stderr))}, false
	}
	return r.Stdout, CheckResult{}, true
}

func checkArch(ctx context.Context, e *Env, n Node) CheckResult {
	out, bad, ok := run(ctx, e, n, "uname -m")
	if !ok {
		return bad
	}
	m := strings.TrimSpace(out)
	arch := map[string]string{"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[m]
	switch {
	case arch == "":
		return CheckResult{Status: Fail, Evidence: fmt.Sprintf("uname -m says %s; K3s here supports amd64 and arm64", m), Hint: "use an amd64 or arm64 node"}
	case arch != n.Arch:
		return CheckResult{Status: Fail, Evidence: fmt.Sprintf("uname -m says %s (%s) but terraform.tfvars says %s", m, arch, n.Arch)}
	}
	return CheckResult{Status: Pass, Evidence: fmt.Sprintf("%s (%s)", arch, m)}
}

func checkCgroup(ctx context.Context, e *Env, n Node) CheckResult {
	out, bad, ok := run(ctx, e, n, "cat /proc/cmdline; echo '--- cgroups'; cat /proc/cgroups")
	if !ok {
		return bad
	}
	cmdline, cgroups, _ := strings.Cut(out, "--- cgroups")
	args := strings.Fields(cmdline)
	has := func(a string) bool {
		for _, x := range args {
			if x == a {
				return true
			}
		}
		return false
	}
	if has("cgroup_disable=memory") && !has("cgroup_enable=memory") {
		return CheckResult{Status: Fail, Evidence: "memory cgroup disabled (cgroup_disable=memory in /proc/cmdline)"}
	}
	for _, l := range strings.Split(cgroups, "\n") {
		f := strings.Fields(l)
		if len(f) == 4 && f[0] == "memory" {
			if f[3] != "1" {
				return CheckResult{Status: Fail, Evidence: "memory cgroup disabled (/proc/cgroups shows memory enabled=" + f[3] + ")"}
			}
			return CheckResult{Status: Pass, Evidence: "memory cgroup enabled"}
		}
	}
	return CheckResult{Status: Fail, Evidence: "no memory controller in /proc/cgroups"}
}

func checkMemory(ctx context.Context, e *Env, n Node) CheckResult {
	out, bad, ok := run(ctx, e, n, "cat /proc/meminfo")
	if !ok {
		return bad
	}
	kb := map[string]int64{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) > 0 {
			kb[k], _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	total, avail := kb["MemTotal"]/1024, kb["MemAvailable"]/1024
	need := e.ServerMemoryMB
	if n.Role == "agent" {
		need = e.AgentMemoryMB
	}
	left := avail
	why := fmt.Sprintf("%d MB available of %d MB", avail, total)
	if n.NomadAllocatedMB > 0 {
		base := total
		if n.NomadMemoryMB > 0 {
			base = n.NomadMemoryMB
		}
		if afterNomad := base - n.NomadAllocatedMB; afterNomad < left {
			left = afterNomad
		}
		why = fmt.Sprintf("%d MB left after Nomad's allocations (%d MB of %d MB allocated; %d MB available now)", left, n.NomadAllocatedMB, base, avail)
	} else {
		why += " (Nomad's allocations unknown)"
	}
	if left < need {
		return CheckResult{Status: Fail, Evidence: fmt.Sprintf("%s; a K3s %s needs about %d MB", why, n.Role, need)}
	}
	return CheckResult{Status: Pass, Evidence: why}
}

// K3s's ports on every node, and those only servers use.
var (
	tcpPorts       = []int{6443, 10250}
	serverTCPPorts = []int{2379, 2380}
	udpPorts       = []int{8472}
)

func portsFor(n Node) []int {
	if n.Role == "server" {
		return append(append([]int{}, tcpPorts...), serverTCPPorts...)
	}
	return []int{10250}
}

// listening parses /proc/net/{tcp,tcp6,udp,udp6}: TCP sockets in LISTEN
// (state 0A) and bound UDP sockets, by local port.
func listening(procNet string, tcp bool) map[int]bool {
	out := map[int]bool{}
	for _, l := range strings.Split(procNet, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || f[0] == "sl" {
			continue
		}
		_, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseInt(portHex, 16, 32)
		if err != nil {
			continue
		}
		if tcp && f[3] != "0A" {
			continue
		}
		out[int(p)] = true
	}
	return out
}

func checkPortsFree(ctx context.Context, e *Env, n Node) CheckResult {
	out, bad, ok := run(ctx, e, n, "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; echo '--- udp'; cat /proc/net/udp /proc/net/udp6 2>/dev/null")
	if !ok {
		return bad
	}
	tcpPart, udpPart, _ := strings.Cut(out, "--- udp")
	tl, ul := listening(tcpPart, true), listening(udpPart, false)
	var busy []string
	tcp, udp := append(portsFor(n), meshTCP(e.Mesh)...), append(append([]int{}, udpPorts...), meshUDP(e.Mesh)...)
	for _, p := range tcp {
		if tl[p] {
			busy = append(busy, fmt.Sprintf("%d/tcp", p))
		}
	}
	for _, p := range udp {
		if ul[p] {
			busy = append(busy, fmt.Sprintf("%d/udp", p))
		}
	}
	if len(busy) > 0 {
		// A rerun of an interrupted install finds K3s itself on its
		// ports: those pass; anything else still fails, named.
		mine, foreign, err := busyOwners(ctx, e, n, busy)
		if err != nil {
			return CheckResult{Status: Fail, Evidence: "already in use: " + strings.Join(busy, ", ") + "; could not tell by whom: " + err.Error(),
				Hint: "stop what listens there, or move it: this node needs " + portList(tcp, udp) + meshNote(e.Mesh)}
		}
		if len(foreign) > 0 {
			return CheckResult{Status: Fail, Evidence: "already in use: " + strings.Join(foreign, "; "),
				Hint: "stop what listens there, or move it: this node needs " + portList(tcp, udp) + meshNote(e.Mesh)}
		}
		return CheckResult{Status: Pass, Evidence: "held by K3s already installed here (an install to resume): " + strings.Join(mine, "; ")}
	}
	return CheckResult{Status: Pass, Evidence: portList(tcp, udp) + " free"}
}

// probeScript tries a TCP connection with bash's /dev/tcp and prints one
// word per port: open, closed (refused: reachable, nothing listens yet) or
// blocked (no answer, or rejected by a firewall).
const probeScript = `for p in %s; do
  (
    out=$(timeout 3 bash -c "exec 3<>/dev/tcp/%s/$p" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then echo "$p open"
    elif [ $rc -eq 124 ]; then echo "$p blocked"
    else case "$out" in *refused*) echo "$p closed";; *) echo "$p blocked";; esac
    fi
  ) &
done
wait`

func checkReachable(ctx context.Context, e *Env, n Node) CheckResult {
	var blocked, probed []string
	for _, from := range e.Nodes {
		if from.Name == n.Name {
			continue
		}
		ports := []string{}
		for _, p := range append(portsFor(n), meshTCP(e.Mesh)...) {
			if from.Role != "server" && (p == 2379 || p == 2380) {
				continue // only servers speak etcd
			}
			ports = append(ports, strconv.Itoa(p))
		}
		out, bad, ok := run(ctx, e, from, "bash -c "+singleQuote(fmt.Sprintf(probeScript, strings.Join(ports, " "), n.Host())))
		if !ok {
			bad.Evidence = "probing from " + from.Name + ": " + bad.Evidence
			return bad
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			if len(f) != 2 {
				continue
			}
			probed = append(probed, f[0])
			if f[1] == "blocked" {
				blocked = append(blocked, fmt.Sprintf("%s/tcp from %s", f[0], from.Name))
			}
		}
	}
	udp := udpList(e.Mesh)
	if len(blocked) > 0 {
		return CheckResult{Status: Fail, Evidence: "blocked: " + strings.Join(blocked, ", "), Hint: firewallHint(e.Mesh)}
	}
	if len(probed) == 0 {
		return CheckResult{Status: Skip, Evidence: "a single node: nothing to probe"}
	}
	return CheckResult{Status: Pass, Evidence: "TCP ports answer from every other node; " + udp + " cannot be probed before K3s runs, keep them open (the firewall that broke the PoC blocked them)" + meshNote(e.Mesh)}
}

func singleQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func checkDisk(ctx context.Context, e *Env, n Node) CheckResult {
	out, bad, ok := run(ctx, e, n, "stat -f -c '%a %S' /var/lib")
	if !ok {
		return bad
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return CheckResult{Status: Fail, Evidence: "unexpected stat output: " + strings.TrimSpace(out)}
	}
	blocks, _ := strconv.ParseInt(f[0], 10, 64)
	size, _ := strconv.ParseInt(f[1], 10, 64)
	mb := blocks * size / (1 << 20)
	min := e.MinDiskMB
	if min == 0 {
		min = 5 * 1024
	}
	if mb < min {
		return CheckResult{Status: Fail, Evidence: fmt.Sprintf("%d MB free under /var/lib; K3s needs about %d MB", mb, min)}
	}
	return CheckResult{Status: Pass, Evidence: fmt.Sprintf("%d MB free under /var/lib", mb)}
}

func checkTime(ctx context.Context, e *Env, n Node) CheckResult {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	before := now()
	out, bad, ok := run(ctx, e, n, "date +%s.%N; timedatectl show -p NTPSynchronized --value 2>/dev/null || true")
	if !ok {
		return bad
	}
	after := now()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secs, err := strconv.ParseFloat(strings.TrimSpace(lines[0]), 64)
	if err != nil {
		return CheckResult{Status: Fail, Evidence: "could not read the node's clock: " + lines[0]}
	}
	remote := time.Unix(0, int64(secs*1e9))
	mid := before.Add(after.Sub(before) / 2)
	skew := remote.Sub(mid)
	if skew < 0 {
		skew = -skew
	}
	max := e.MaxSkew
	if max == 0 {
		max = 2 * time.Second
	}
	ntp := ""
	if len(lines) > 1 {
		ntp = strings.TrimSpace(lines[1])
	}
	if skew > max+after.Sub(before) {
		return CheckResult{Status: Fail, Evidence: fmt.Sprintf("clock is %s off this machine's", skew.Round(time.Millisecond))}
	}
	if ntp == "no" {
		return CheckResult{Status: Warn, Evidence: fmt.Sprintf("clock within %s but NTP is not synchronised", skew.Round(time.Millisecond))}
	}
	return CheckResult{Status: Pass, Evidence: fmt.Sprintf("clock within %s of this machine's", skew.Round(time.Millisecond))}
}
