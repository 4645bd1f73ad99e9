package decisions

import (
	"fmt"
	"net/netip"
	"strings"
)

// Context is what the cross-checks know besides the answers: facts from
// preflight and from stages already applied.
type Context struct {
	// InstalledMesh is the service_mesh K3s was installed with; "" while
	// the cluster stage has not run.
	InstalledMesh string
	// ExternalTraefikNodes are the nodes where the external Traefik holds
	// 80/443 (from Nomad's inventory when preflight saw a traefik job).
	ExternalTraefikNodes []string
	// NodeMemoryMB is each node's free memory beside Nomad's allocations,
	// from preflight (used for hints only).
	NodeMemoryMB map[string]int
}

// DefaultContext is used when preflight has not run: the homelab's external
// Traefik runs on Hestia (homelab.md).
func DefaultContext() Context { return Context{ExternalTraefikNodes: []string{"hestia"}} }

// Conflict is a refused combination of answers.
type Conflict struct {
	ID      string   // stable identifier, e.g. "nodeport-overlaps-nomad"
	Keys    []string // the decisions involved
	Problem string   // what was found
	Why     string   // why it cannot work
	Fix     string   // what to choose instead
}

func (c Conflict) Error() string {
	return fmt.Sprintf("%s: %s. Choose instead: %s", c.Problem, c.Why, c.Fix)
}

// Involves says whether the conflict concerns key.
func (c Conflict) Involves(key string) bool { return contains(c.Keys, key) }

// crossCheck is one rule; it sees the effective answers (defaults filled in).
type crossCheck struct {
	id    string
	doc   string // one sentence for research.md and decide --list
	keys  []string
	check func(e Answers, c Context) *Conflict
}

// Nomad's bridge and Docker's default network live on every host.
var hostNetworks = []struct{ name, cidr string }{
	{"Nomad's bridge network", "172.26.64.0/20"},
	{"Docker's default bridge", "172.17.0.0/16"},
}

var crossChecks = []crossCheck{
	{
		id: "cilium-needs-flannel-off", doc: "Cilium replaces flannel, so K3s is installed with --flannel-backend=none --disable-network-policy when service_mesh is cilium; switching to or from Cilium after the cluster stage is refused until K3s is reinstalled.",
		keys: []string{"service_mesh"},
		check: func(e Answers, c Context) *Conflict {
			m := e.Str("service_mesh")
			if c.InstalledMesh == "" || (m == "cilium") == (c.InstalledMesh == "cilium") {
				return nil
			}
			if m == "cilium" {
				return &Conflict{
					Problem: "service_mesh = cilium, but K3s is already installed with flannel and its network policy controller (mesh " + c.InstalledMesh + ")",
					Why:     "Cilium replaces flannel; K3s must be installed with --flannel-backend=none --disable-network-policy, which cannot be switched on a running cluster",
					Fix:     "keep " + c.InstalledMesh + " (or linkerd, istio-ambient, none), or uninstall K3s (k3s-uninstall.sh) and run the cluster stage again after choosing cilium",
				}
			}
			return &Conflict{
				Problem: "service_mesh = " + m + ", but K3s was installed for Cilium (--flannel-backend=none --disable-network-policy)",
				Why:     "without Cilium the nodes have no CNI and no pod can start; flannel cannot be switched on in a running cluster",
				Fix:     "keep cilium, or uninstall K3s and run the cluster stage again after choosing " + m,
			}
		},
	},
	{
		id: "litestream-not-on-nfs", doc: "A Litestream/SQLite service (overseerr) must not sit on glusterfs-nfs: SQLite WAL does not work on NFS.",
		keys: []string{"storage_backend", "poc_services"},
		check: func(e Answers, c Context) *Conflict {
			if e.Str("storage_backend") != "glusterfs-nfs" || !contains(e.List("poc_services"), "overseerr") {
				return nil
			}
			return &Conflict{
				Problem: "storage_backend = glusterfs-nfs while poc_services includes overseerr",
				Why:     "Overseerr's SQLite database runs in WAL mode for Litestream, and WAL does not work on a network filesystem such as NFS (sqlite.org/wal.html)",
				Fix:     "storage_backend = local-path or longhorn (block or local storage), or drop overseerr from poc_services",
			}
		},
	},
	{
		id: "nfs-needs-server", doc: "glusterfs-nfs needs nfs_server.",
		keys: []string{"storage_backend", "nfs_server"},
		check: func(e Answers, c Context) *Conflict {
			if e.Str("storage_backend") != "glusterfs-nfs" || e.Str("nfs_server") != "" {
				return nil
			}
			return &Conflict{
				Problem: "storage_backend = glusterfs-nfs but nfs_server is empty",
				Why:     "the NFS provisioner has nothing to mount",
				Fix:     "set nfs_server to the host exporting the GlusterFS volumes, or choose glusterfs-hostpath",
			}
		},
	},
	{
		id: "local-path-needs-local-storage", doc: "local-path storage needs K3s's local-storage component enabled.",
		keys: []string{"storage_backend", "k3s_disable"},
		check: func(e Answers, c Context) *Conflict {
			if e.Str("storage_backend") != "local-path" || !contains(e.List("k3s_disable"), "local-storage") {
				return nil
			}
			return &Conflict{
				Problem: "storage_backend = local-path but k3s_disable contains local-storage",
				Why:     "local-storage is the K3s component that provides the local-path StorageClass",
				Fix:     "remove local-storage from k3s_disable, or choose another storage_backend",
			}
		},
	},
	{
		id: "bundled-traefik-clashes", doc: "K3s's bundled Traefik takes 80/443 on every node through ServiceLB, which clashes with the external Traefik on Hestia.",
		keys: []string{"ingress_mode", "nodes"},
		check: func(e Answers, c Context) *Conflict {
			if e.Str("ingress_mode") != "bundled-traefik" {
				return nil
			}
			var clash []string
			for _, n := range e.Nodes() {
				if contains(c.ExternalTraefikNodes, n.Name) {
					clash = append(clash, n.Name)
				}
			}
			if len(clash) == 0 {
				return nil
			}
			return &Conflict{
				Problem: "ingress_mode = bundled-traefik with " + strings.Join(clash, ", ") + " in the cluster",
				Why:     "K3s's bundled Traefik takes ports 80/443 on every node through ServiceLB, and the external Traefik on " + strings.Join(clash, ", ") + " already listens there",
				Fix:     "ingress_mode = traefik-behind-external (Traefik on a NodePort behind the external one) or external-direct",
			}
		},
	},
	{
		id: "bundled-traefik-disabled", doc: "bundled-traefik needs the traefik and servicelb components enabled: K3s's Traefik is a LoadBalancer Service that ServiceLB exposes on 80/443 (docs.k3s.io/networking/networking-services); main.tf checks the same.",
		keys: []string{"ingress_mode", "k3s_disable"},
		check: func(e Answers, c Context) *Conflict {
			dis := e.List("k3s_disable")
			if e.Str("ingress_mode") != "bundled-traefik" || (!contains(dis, "traefik") && !contains(dis, "servicelb")) {
				return nil
			}
			return &Conflict{
				Problem: "ingress_mode = bundled-traefik but k3s_disable contains traefik or servicelb",
				Why:     "the bundled Traefik is the packaged traefik component, a LoadBalancer Service that ServiceLB exposes on ports 80/443 of the nodes; without traefik there is no ingress, without servicelb its Service stays pending and Traefik answers only on NodePorts Kubernetes picks at random",
				Fix:     "remove traefik and servicelb from k3s_disable, or choose ingress_mode = traefik-behind-external",
			}
		},
	},
	{
		id: "packaged-traefik-must-be-off", doc: "Any other ingress mode needs traefik and servicelb in k3s_disable: the packaged Traefik would take 80/443 through ServiceLB, and ServiceLB binds host ports for any LoadBalancer Service; main.tf checks the same.",
		keys: []string{"ingress_mode", "k3s_disable"},
		check: func(e Answers, c Context) *Conflict {
			dis := e.List("k3s_disable")
			if e.Str("ingress_mode") == "bundled-traefik" || (contains(dis, "traefik") && contains(dis, "servicelb")) {
				return nil
			}
			return &Conflict{
				Problem: "ingress_mode = " + e.Str("ingress_mode") + " but k3s_disable lacks traefik or servicelb",
				Why:     "K3s would still start its packaged Traefik, a LoadBalancer Service on 80/443 that ServiceLB exposes on every node where the external Traefik already listens; and ServiceLB binds the host ports of any LoadBalancer Service on every node, beside Nomad's allocations",
				Fix:     "k3s_disable = traefik,servicelb (plus anything else you disable)",
			}
		},
	},
	{
		id: "needed-components", doc: "metrics-server (VPA) and coredns (cluster DNS, .consul forwarding) cannot be disabled.",
		keys: []string{"k3s_disable"},
		check: func(e Answers, c Context) *Conflict {
			for _, comp := range []struct{ name, why string }{
				{"metrics-server", "the VPA recommender (SC-002) needs resource metrics from metrics-server"},
				{"coredns", "pods need cluster DNS, and CoreDNS forwards .consul to Consul DNS so they reach Nomad services such as MinIO"},
			} {
				if contains(e.List("k3s_disable"), comp.name) {
					return &Conflict{
						Problem: "k3s_disable contains " + comp.name,
						Why:     comp.why,
						Fix:     "remove " + comp.name + " from k3s_disable",
					}
				}
			}
			return nil
		},
	},
	{
		id: "nodeport-overlaps-nomad", doc: "node_port_range must not overlap nomad_dynamic_port_range (Nomad's default 20000-32000 overlaps K3s's default 30000-32767).",
		keys: []string{"node_port_range", "nomad_dynamic_port_range"},
		check: func(e Answers, c Context) *Conflict {
			klo, khi, err1 := PortRange(e.Str("node_port_range"))
			nlo, nhi, err2 := PortRange(e.Str("nomad_dynamic_port_range"))
			if err1 != nil || err2 != nil || khi < nlo || nhi < klo {
				return nil
			}
			return &Conflict{
				Problem: fmt.Sprintf("node_port_range %d-%d overlaps Nomad's dynamic ports %d-%d (%d-%d in both)", klo, khi, nlo, nhi, max(klo, nlo), min(khi, nhi)),
				Why:     "a Nomad allocation and a K3s NodePort would both bind the same host port, and one of them fails",
				Fix:     fmt.Sprintf("node_port_range = %d-32767 (above Nomad's range), or lower Nomad's max_dynamic_port below %d on every client and set nomad_dynamic_port_range to match", nhi+1, klo),
			}
		},
	},
	{
		id: "traefik-ports-in-range", doc: "Traefik's NodePorts must lie inside node_port_range and differ.",
		keys: []string{"traefik_https_node_port", "traefik_http_node_port", "node_port_range"},
		check: func(e Answers, c Context) *Conflict {
			if e.Str("ingress_mode") != "traefik-behind-external" {
				return nil
			}
			lo, hi, err := PortRange(e.Str("node_port_range"))
			if err != nil {
				return nil
			}
			for _, k := range []string{"traefik_https_node_port", "traefik_http_node_port"} {
				if p := e.Int(k); p < int64(lo) || p > int64(hi) {
					return &Conflict{
						Problem: fmt.Sprintf("%s = %d is outside node_port_range %s", k, p, e.Str("node_port_range")),
						Why:     "the API server refuses a NodePort outside --service-node-port-range",
						Fix:     fmt.Sprintf("a port between %d and %d (e.g. %d)", lo, hi, clampDefault(Get(k).Default.(int64), lo, hi)),
					}
				}
			}
			if e.Int("traefik_https_node_port") == e.Int("traefik_http_node_port") {
				return &Conflict{
					Problem: "traefik_https_node_port and traefik_http_node_port are the same port",
					Why:     "two entrypoints cannot share one NodePort",
					Fix:     "two different ports, e.g. 32443 and 32080",
				}
			}
			return nil
		},
	},
	{
		id: "cidrs-disjoint", doc: "cluster_cidr, service_cidr and lan_cidr must not overlap each other; the K3s ranges must stay clear of Nomad's bridge 172.26.64.0/20 and Docker's 172.17.0.0/16.",
		keys: []string{"cluster_cidr", "service_cidr", "lan_cidr"},
		check: func(e Answers, c Context) *Conflict {
			nets := []struct{ name, cidr string }{
				{"cluster_cidr", e.Str("cluster_cidr")},
				{"service_cidr", e.Str("service_cidr")},
				{"lan_cidr", e.Str("lan_cidr")},
			}
			for i := range nets {
				for j := i + 1; j < len(nets); j++ {
					if overlap(nets[i].cidr, nets[j].cidr) {
						return &Conflict{
							Problem: fmt.Sprintf("%s %s overlaps %s %s", nets[i].name, nets[i].cidr, nets[j].name, nets[j].cidr),
							Why:     "packets for one network would be routed into the other",
							Fix:     "non-overlapping ranges, e.g. cluster_cidr 10.42.0.0/16 and service_cidr 10.43.0.0/16",
						}
					}
				}
				if i == 2 {
					break // the LAN may well be anything; host networks are checked for the K3s ranges only
				}
				for _, h := range hostNetworks {
					if overlap(nets[i].cidr, h.cidr) {
						return &Conflict{
							Problem: fmt.Sprintf("%s %s overlaps %s %s", nets[i].name, nets[i].cidr, h.name, h.cidr),
							Why:     "Nomad and Docker already route that range on every host",
							Fix:     "a range inside 10.0.0.0/8 clear of the LAN, e.g. 10.42.0.0/16 (pods) and 10.43.0.0/16 (services)",
						}
					}
				}
			}
			return nil
		},
	},
	{
		id: "cilium-pool-overlaps", doc: "In cluster-pool mode, cilium_pool_cidr must not cover lan_cidr, cluster_cidr or service_cidr (Cilium's default pool 10.0.0.0/8 covers them all).",
		keys: []string{"cilium_pool_cidr", "lan_cidr", "cluster_cidr", "service_cidr"},
		check: func(e Answers, c Context) *Conflict {
			if e.Str("service_mesh") != "cilium" || e.Str("cilium_ipam_mode") != "cluster-pool" {
				return nil
			}
			pool := e.Str("cilium_pool_cidr")
			for _, k := range []string{"lan_cidr", "cluster_cidr", "service_cidr"} {
				if overlap(pool, e.Str(k)) {
					return &Conflict{
						Problem: fmt.Sprintf("cilium_pool_cidr %s overlaps %s %s", pool, k, e.Str(k)),
						Why:     "Cilium would hand pods addresses that belong to " + map[string]string{"lan_cidr": "the LAN, cutting pods off from the hosts", "cluster_cidr": "K3s's pod network", "service_cidr": "Service ClusterIPs"}[k] + " (Cilium's default pool 10.0.0.0/8 covers 10.42/10.43 and any 10.x LAN)",
						Fix:     "cilium_ipam_mode = kubernetes (use cluster_cidr), or a pool clear of all three, e.g. 10.44.0.0/16",
					}
				}
			}
			return nil
		},
	},
	{
		id: "vault-ca-needs-eso", doc: "vault_ca_file is given to External Secrets' ClusterSecretStore only; with vault_method = agent-injector the injected Vault agents would not trust a Vault behind a private CA, so the pair is refused.",
		keys: []string{"vault_ca_file", "vault_method"},
		check: func(e Answers, c Context) *Conflict {
			if e.Str("vault_ca_file") == "" || e.Str("vault_method") != "agent-injector" {
				return nil
			}
			return &Conflict{
				Problem: "vault_ca_file is set with vault_method = agent-injector",
				Why:     "only External Secrets' ClusterSecretStore is given Vault's CA (ConfigMap external-secrets/vault-ca); the injected Vault agents would fail Vault's TLS handshake",
				Fix:     "vault_method = external-secrets, or leave vault_ca_file empty if Vault's certificate chains to the system roots",
			}
		},
	},
	{
		id: "topology-roles", doc: "Node roles must match control_plane_topology: an odd number (at least 3) of servers for ha-3-servers, exactly one for 1-server-2-agents.",
		keys: []string{"control_plane_topology", "nodes"},
		check: func(e Answers, c Context) *Conflict {
			servers := 0
			for _, n := range e.Nodes() {
				if n.Role == "server" {
					servers++
				}
			}
			switch e.Str("control_plane_topology") {
			case "ha-3-servers":
				if servers < 3 || servers%2 == 0 {
					return &Conflict{
						Problem: fmt.Sprintf("control_plane_topology = ha-3-servers but nodes has %d server(s)", servers),
						Why:     "embedded etcd needs an odd number of servers, at least three, to keep quorum",
						Fix:     "give three nodes role server, or choose control_plane_topology = 1-server-2-agents",
					}
				}
			case "1-server-2-agents":
				if servers != 1 {
					return &Conflict{
						Problem: fmt.Sprintf("control_plane_topology = 1-server-2-agents but nodes has %d servers", servers),
						Why:     "this topology runs exactly one server; the others join as agents",
						Fix:     "give exactly one node (the first) role server and the others role agent, or choose ha-3-servers",
					}
				}
			}
			return nil
		},
	},
}

func clampDefault(def int64, lo, hi int) int64 {
	if def >= int64(lo) && def <= int64(hi) {
		return def
	}
	return int64(hi)
}

func overlap(a, b string) bool {
	pa, err1 := netip.ParsePrefix(a)
	pb, err2 := netip.ParsePrefix(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return pa.Overlaps(pb)
}

// CrossCheckIDs lists every cross-check (for tests and docs).
func CrossCheckIDs() []string {
	out := make([]string, len(crossChecks))
	for i, c := range crossChecks {
		out[i] = c.id
	}
	return out
}

// Check runs every cross-check on the answers (defaults filled in) and
// returns the refusals.
func Check(a Answers, c Context) []Conflict {
	e := Effective(a)
	var out []Conflict
	for _, cc := range crossChecks {
		if conf := cc.check(e, c); conf != nil {
			conf.ID = cc.id
			conf.Keys = cc.keys
			out = append(out, *conf)
		}
	}
	return out
}

// ConflictsError joins refusals into one error.
type ConflictsError []Conflict

func (ce ConflictsError) Error() string {
	parts := make([]string, len(ce))
	for i, c := range ce {
		parts[i] = c.Error()
	}
	return "refused: " + strings.Join(parts, "\nrefused: ")
}

// Derive fills in answers that follow from others the operator just chose,
// for keys the operator did not set in the same change: the nodes' roles
// follow control_plane_topology. It returns the updated answers and a
// sentence per derived change.
func Derive(cur Answers, changed map[string]bool, c Context) (Answers, []string) {
	out := cur.Clone()
	var notes []string
	if changed["control_plane_topology"] && !changed["nodes"] {
		e := Effective(out)
		nodes := append([]Node(nil), e.Nodes()...)
		topo := e.Str("control_plane_topology")
		server := 0
		if topo == "1-server-2-agents" {
			// The node with the most free memory carries the control plane.
			best := -1
			for i, n := range nodes {
				if m, ok := c.NodeMemoryMB[n.Name]; ok && m > best {
					best, server = m, i
				}
			}
			if server != 0 { // the server must come first: it runs cluster-init
				nodes[0], nodes[server] = nodes[server], nodes[0]
			}
		}
		changedRoles := false
		for i := range nodes {
			role := "server"
			if topo == "1-server-2-agents" && i > 0 {
				role = "agent"
			}
			if nodes[i].Role != role {
				changedRoles = true
			}
			nodes[i].Role = role
		}
		if changedRoles || !Equal(nodes, e.Nodes()) {
			out["nodes"] = nodes
			var desc []string
			for _, n := range nodes {
				desc = append(desc, n.Name+" "+n.Role)
			}
			notes = append(notes, "nodes follow "+topo+": "+strings.Join(desc, ", "))
		}
	}
	return out, notes
}
