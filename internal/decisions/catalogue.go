package decisions

import (
	"fmt"
	"strings"
)

// Option is one choice of a decision, with everything the operator needs to
// weigh it. Facts are cited by their source in facts.md/homelab.md.
type Option struct {
	Value        string   // the tfvars value
	Summary      string   // one line
	Pros         []string //
	Cons         []string //
	Homelab      string   // what it means for this homelab
	Consequences string   // what it changes in later steps
}

// Decision is one key of terraform.tfvars the wizard asks about.
type Decision struct {
	Key      string // the variable name in variables.tf
	Type     Type
	Screen   string // the decision step (screen) that asks it, see Screens
	Title    string
	Question string
	Why      string   // why it matters, one or two sentences
	Options  []Option // closed choices; for a list, the allowed members
	Default  any      // the recommended default (= the default in variables.tf)
	// DefaultReason says why the default is recommended here.
	DefaultReason string
	// Consequences of an open value (options carry their own).
	Consequences string
	// Validate mirrors the validation block in variables.tf.
	Validate func(any) error
	// AskWhen says whether the question applies given the other answers
	// (nil: always). A question that does not apply keeps its value.
	AskWhen func(Answers) bool
}

// Screen is one decision step: a group of decisions asked together.
type Screen struct {
	ID    string // the step ID is "decide." + ID
	Title string
	Why   string
}

// Screens lists the decision screens in the order the wizard asks them.
var Screens = []Screen{
	{"topology", "Control-plane topology", "How many K3s servers carry the control plane, and what that costs each node in memory Nomad can no longer use."},
	{"storage", "Storage", "Where the PoC services' volumes live, and whether SQLite + Litestream services are safe there."},
	{"mesh", "Mesh and mTLS", "Which component gives mutual TLS and traffic policy between services (SC-008); Cilium also replaces K3s's flannel, so this is decided before K3s installs."},
	{"ingress", "Ingress", "How HTTPS requests for *.domain reach services on K3s while the external Traefik on Hestia keeps ports 80/443."},
	{"vault", "Vault secrets", "How pods get the secrets Nomad reads from Vault today (SC-009)."},
	{"cluster", "Cluster parameters", "K3s version, nodes and roles, networks and ports: chosen so K3s coexists with Nomad, Consul and Docker on the same hosts (FR-006)."},
	{"services", "PoC services", "Which services the PoC deploys, under which domain, and where Litestream replicates."},
}

// ScreenByID returns a screen, or nil.
func ScreenByID(id string) *Screen {
	for i := range Screens {
		if Screens[i].ID == id {
			return &Screens[i]
		}
	}
	return nil
}

// NotDecisions are variables in variables.tf that the wizard does not ask:
// other parts of migrate-tui write them. A test keeps this list, the
// catalogue and variables.tf in step.
var NotDecisions = map[string]string{
	"kubeconfig_path": "written by the cluster stage once K3s is installed",
	"enabled_stages":  "written by the stage runner as stages are applied",
	"services":        "written by migrate-tui scaffold (a scaffolded module switched on or off)",
}

// All returns the catalogue in the order questions are asked.
func All() []*Decision { return catalogue }

// Get returns the decision with the given key, or nil.
func Get(key string) *Decision {
	for _, d := range catalogue {
		if d.Key == key {
			return d
		}
	}
	return nil
}

// ForScreen returns the decisions a screen asks, in order.
func ForScreen(id string) []*Decision {
	var out []*Decision
	for _, d := range catalogue {
		if d.Screen == id {
			out = append(out, d)
		}
	}
	return out
}

// Keys returns every decision key in catalogue order.
func Keys() []string {
	out := make([]string, len(catalogue))
	for i, d := range catalogue {
		out[i] = d.Key
	}
	return out
}

// Defaults returns every recommended default.
func Defaults() Answers {
	a := Answers{}
	for _, d := range catalogue {
		a[d.Key] = d.Default
	}
	return a
}

// Effective overlays answers on the defaults: what Terraform would see.
func Effective(a Answers) Answers {
	out := Defaults()
	for k, v := range a {
		out[k] = v
	}
	return out
}

// UnknownKeyError names a key that is not in the catalogue.
func UnknownKeyError(key string) error {
	if why, ok := NotDecisions[key]; ok {
		return fmt.Errorf("%s is not a decision: it is %s", key, why)
	}
	return fmt.Errorf("%s is not a decision key; `migrate-tui decide --list` shows them (%s)", key, strings.Join(Keys(), ", "))
}

func isOneOf(key string, values ...string) func(Answers) bool {
	return func(a Answers) bool {
		v := Effective(a).Str(key)
		for _, x := range values {
			if v == x {
				return true
			}
		}
		return false
	}
}

var defaultNodes = []Node{
	{Name: "hestia", Address: "192.168.1.5", Arch: "amd64", Role: "server"},
	{Name: "heracles", Address: "192.168.1.6", Arch: "arm64", Role: "server"},
	{Name: "nyx", Address: "192.168.1.7", Arch: "arm64", Role: "server"},
}

// catalogue is built in init: AskWhen funcs refer back to it.
var catalogue []*Decision

func init() { catalogue = build() }

func build() []*Decision {
	return []*Decision{
		// ---------------------------------------------------------- topology ---
		{
			Key: "control_plane_topology", Type: String, Screen: "topology",
			Title:    "Control-plane topology",
			Question: "How should the K3s control plane be laid out on Hestia, Heracles and Nyx?",
			Why:      "Every K3s server runs etcd, the API server, controller-manager and scheduler; that memory comes out of what Nomad can allocate on the same node.",
			Options: []Option{
				{
					Value:   "ha-3-servers",
					Summary: "Three K3s servers with embedded etcd, one on every node (HA).",
					Pros: []string{
						"Survives one node down: the API and scheduling keep working while, e.g., Heracles reboots for its boot-cmdline fix.",
						"What the January 2026 PoC ran; every success criterion was met with it.",
						"No single node is special; any server answers on 6443/tcp.",
					},
					Cons: []string{
						"The PoC measured about 500 MB per node for the K3s control plane plus Cilium, against about 160 MB for the Nomad and Consul agents.",
						"etcd needs an odd number of servers and disks that are not SD or eMMC (docs.k3s.io ha-embedded).",
						"2379-2380/tcp (etcd) must be open between the nodes, in addition to 6443, 10250 and 8472.",
					},
					Homelab:      "Heracles and Nyx (arm64) each give up about 500 MB to the control plane; a K3s server with embedded etcd was measured at about 1.6 GB on a Pi 4 (docs.k3s.io resource-profiling). Both arm64 nodes also need cgroup_memory=1 cgroup_enable=memory on the boot command line, whatever the topology.",
					Consequences: "Cluster stage: every node gets role server; the first is started with cluster-init, and cluster-cidr, service-cidr, cluster-dns and the disable flags must be identical on all three.",
				},
				{
					Value:   "1-server-2-agents",
					Summary: "One K3s server on the node with the most memory (Hestia), Heracles and Nyx as agents.",
					Pros: []string{
						"Much lighter on the arm64 nodes: an agent was measured at about 268 MB against about 1.6 GB for a server with etcd (docs.k3s.io resource-profiling).",
						"No etcd quorum to keep; fewer ports to open between nodes (no 2379-2380).",
					},
					Cons: []string{
						"The server is a single point of failure: while it is down nothing can be scheduled or changed (running pods keep running).",
						"Not the layout the PoC validated; moving to HA later means re-installing the agents as servers.",
					},
					Homelab:      "Hestia (amd64) also runs the external Traefik and has the GPU, so it carries the control plane; Heracles and Nyx keep most of their memory for Nomad allocations during the hybrid period.",
					Consequences: "Cluster stage: the node with the most memory becomes the only server (cluster-init), the others join as agents through K3S_URL on 6443/tcp. The nodes parameter's roles follow this choice.",
				},
			},
			Default:       "ha-3-servers",
			DefaultReason: "The PoC ran three servers and met every criterion, and HA lets one node reboot (the arm64 boot-cmdline fix needs reboots) without losing the API. Choose 1-server-2-agents when preflight shows Heracles or Nyx has less than about 1 GB free beside Nomad's allocations.",
		},
		// ----------------------------------------------------------- storage ---
		{
			Key: "storage_backend", Type: String, Screen: "storage",
			Title:    "Storage backend",
			Question: "Where should the PoC services' persistent volumes live?",
			Why:      "Overseerr keeps SQLite in WAL mode and Litestream needs WAL; WAL does not work on a network filesystem (sqlite.org/wal.html). The existing data lives on GlusterFS.",
			Options: []Option{
				{
					Value:   "local-path",
					Summary: "K3s's bundled local-path provisioner: a directory on the node's own disk.",
					Pros: []string{
						"Nothing to install; K3s ships it.",
						"Local disk: SQLite WAL and Litestream work.",
						"What the PoC used.",
					},
					Cons: []string{
						"A volume is tied to the node it was created on; the pod cannot move elsewhere.",
						"No replication: Litestream's copy in MinIO is the backup.",
						"Not the GlusterFS volumes the Nomad services use today.",
					},
					Homelab:      "Fine for Overseerr's database, which Litestream replicates to MinIO (bucket overseerr_litestream_bucket); the services' GlusterFS data (glusterfs_<service>_<type>) stays with Nomad.",
					Consequences: "k3s_disable must not contain local-storage. The storage stage installs nothing; PVCs use the local-path StorageClass.",
				},
				{
					Value:   "longhorn",
					Summary: "Longhorn: replicated block storage across the nodes.",
					Pros: []string{
						"Replicas on several nodes; a pod can move and keep its data.",
						"Block storage: SQLite WAL works.",
						"Snapshots and backups built in.",
					},
					Cons: []string{
						"Needs open-iscsi on every node (and an NFSv4 client for RWX volumes).",
						"Defaults to 3 replicas and recommends 4 vCPU / 4 GiB per node.",
						"A second copy of the data next to GlusterFS, with its own disks to watch.",
					},
					Homelab:      "Heavy for Heracles and Nyx, which also run Nomad allocations; three replicas triple the disk used on nodes that already hold GlusterFS bricks.",
					Consequences: "The storage stage installs Longhorn through K3s's Helm controller; open-iscsi must be installed on the nodes first.",
				},
				{
					Value:   "glusterfs-hostpath",
					Summary: "The hosts' existing GlusterFS mounts (/storage/v/glusterfs_<service>_<type>) as hostPath volumes.",
					Pros: []string{
						"The very volumes Nomad uses: the per-service target 'same volumes as on Nomad' is met.",
						"No new daemons; every node already mounts GlusterFS.",
						"Works on amd64 and arm64 alike.",
					},
					Cons: []string{
						"Kubernetes removed its in-tree GlusterFS plugin in 1.26, so this bypasses Kubernetes' storage model (static PVs on hostPath).",
						"A FUSE network mount: SQLite databases must stay on local disk (emptyDir, restored by Litestream), not here.",
						"Nomad and K3s must never run the same service at once on one volume.",
					},
					Homelab:      "Matches how the cutover moved 16 services one at a time; a service's Nomad job must be stopped before its K3s copy mounts the same directory.",
					Consequences: "Uses glusterfs_mount_root. The storage stage creates static PersistentVolumes per service volume; cutover stops the Nomad job first. The services stage refuses it for overseerr while the Nomad overseerr job runs (both copies would write its directory).",
				},
				{
					Value:   "glusterfs-nfs",
					Summary: "GlusterFS exported over NFS, with the NFS subdir provisioner.",
					Pros: []string{
						"Dynamic provisioning on any node, RWX volumes.",
						"Data stays on the GlusterFS cluster.",
					},
					Cons: []string{
						"Needs an NFS server (nfs_server, nfs_path).",
						"The provisioner names directories ${namespace}-${pvcName}-${pvName}, not the existing glusterfs_<service>_<type> paths.",
						"SQLite WAL does not work on NFS: Litestream services (Overseerr) cannot use it.",
					},
					Homelab:      "Overseerr, Vaultwarden and Open WebUI are SQLite + Litestream services; none may keep its database here.",
					Consequences: "Requires nfs_server; migrate-tui refuses it while overseerr is among poc_services.",
				},
			},
			Default:       "local-path",
			DefaultReason: "The PoC used local-path: nothing to install, SQLite WAL works and Litestream already replicates to MinIO. Reaching the GlusterFS data (glusterfs-hostpath) matters at cutover, not for the PoC services.",
		},
		{
			Key: "glusterfs_mount_root", Type: String, Screen: "storage",
			Title: "GlusterFS mount root", Question: "Where are the GlusterFS volumes mounted on every host?",
			Why:           "hostPath volumes point at <root>/glusterfs_<service>_<type> on the node the pod runs on.",
			Default:       "/storage/v",
			DefaultReason: "Nomad's CSI volumes are mounted under /storage/v on every host today.",
			Consequences:  "The storage stage builds each PersistentVolume's path from it.",
			Validate:      absPath,
			AskWhen:       isOneOf("storage_backend", "glusterfs-hostpath"),
		},
		{
			Key: "nfs_server", Type: String, Screen: "storage",
			Title: "NFS server", Question: "Which host exports the GlusterFS volumes over NFS?",
			Why:           "The NFS subdir provisioner mounts this server's export.",
			Default:       "",
			DefaultReason: "No NFS export exists today; set it only with glusterfs-nfs.",
			Consequences:  "The storage stage's provisioner mounts nfs_server:nfs_path.",
			Validate: func(v any) error {
				if s := v.(string); s != "" && !hostName.MatchString(s) {
					return fmt.Errorf("%q is not a host name or address", s)
				}
				return nil
			},
			AskWhen: isOneOf("storage_backend", "glusterfs-nfs"),
		},
		{
			Key: "nfs_path", Type: String, Screen: "storage",
			Title: "NFS export path", Question: "Which path does the NFS server export?",
			Why:           "The provisioner creates one directory per volume below it.",
			Default:       "/storage",
			DefaultReason: "GlusterFS is mounted below /storage on the hosts.",
			Validate:      absPath,
			AskWhen:       isOneOf("storage_backend", "glusterfs-nfs"),
		},
		// -------------------------------------------------------------- mesh ---
		{
			Key: "service_mesh", Type: String, Screen: "mesh",
			Title:    "Mesh / mTLS",
			Question: "Which component should give mutual TLS and traffic policy between services?",
			Why:      "SC-008 asks for mTLS between at least two PoC services; echo may only be called by whoami. Cilium replaces K3s's CNI, so this must be decided before K3s is installed.",
			Options: []Option{
				{
					Value:   "cilium",
					Summary: "Cilium as CNI and mesh: WireGuard between nodes, CiliumNetworkPolicy, Hubble.",
					Pros: []string{
						"One component for networking, policy and encryption; also replaces kube-proxy.",
						"amd64 and arm64 supported.",
						"What the PoC ran; the echo-only-from-whoami rule is one CiliumNetworkPolicy.",
					},
					Cons: []string{
						"K3s must be installed with --flannel-backend=none --disable-network-policy: changing it later means reinstalling K3s.",
						"The agent uses 150-450 MiB per node on small clusters (cilium/cilium#23930, #28772).",
						"Node-to-node WireGuard is not per-workload identity; Cilium's SPIFFE mutual authentication is beta.",
						"Its default IPAM pool 10.0.0.0/8 covers 10.42/10.43 and any 10.x LAN.",
					},
					Homelab:      "In the PoC Cilium saw only 2 of 3 nodes until Hestia's firewalld allowed 8472/udp (VXLAN) and 4240/tcp (health).",
					Consequences: "Cluster stage renders flannel-backend: none and disable-network-policy for every server; the mesh stage runs right after the cluster (nodes stay NotReady without a CNI); cilium_ipam_mode and cilium_pool_cidr apply.",
				},
				{
					Value:   "linkerd",
					Summary: "Linkerd: automatic mTLS between meshed pods with a small Rust proxy.",
					Pros: []string{
						"Per-workload mTLS identity for every meshed pod, on by default.",
						"Light: its 2021 benchmark measured a 365 MB control plane and at most 26 MB per proxy (Istio: 597 MB, 156 MB).",
						"ARM support since 2.9; K3s keeps flannel.",
					},
					Cons: []string{
						"Since 2.15 open source ships edge releases only; stable releases come from Buoyant.",
						"A sidecar in every meshed pod.",
						"Traffic policy through its own Server / AuthorizationPolicy resources.",
					},
					Homelab:      "Closest to Consul Connect's sidecar model and intentions; about 26 MB per meshed pod on top of each service.",
					Consequences: "K3s keeps flannel and its network policy; the mesh stage installs Linkerd's CRDs with the Gateway API CRDs Linkerd 2.18+ needs (linkerd-crds installGatewayAPI), its control plane, and a monthly CronJob that re-signs the 100-day identity issuer from the trust anchor kept in the Secret linkerd-trust-anchor; the services stage annotates PoC pods for injection.",
				},
				{
					Value:   "istio-ambient",
					Summary: "Istio in ambient mode: a per-node ztunnel instead of sidecars.",
					Pros: []string{
						"No sidecars: mTLS at L4 from a node-level ztunnel.",
						"arm64 images since Istio 1.15.",
					},
					Cons: []string{
						"The most moving parts: istiod, ztunnel and the Istio CNI node agent on every node.",
						"Istio's control plane measured 597 MB in Linkerd's benchmark.",
						"L7 policy needs waypoint proxies as well.",
					},
					Homelab:      "Memory heavy for the arm64 nodes that share memory with Nomad.",
					Consequences: "K3s keeps flannel; the mesh stage installs istiod, the Istio CNI agent and ztunnel.",
				},
				{
					Value:   "none",
					Summary: "No mesh: plain K3s networking (flannel) and Kubernetes NetworkPolicy.",
					Pros: []string{
						"No extra memory or components.",
						"Simplest to run and debug.",
					},
					Cons: []string{
						"No mTLS: SC-008 cannot be met.",
						"Traffic policy only through NetworkPolicy (K3s's embedded kube-router).",
					},
					Homelab:      "Services lose the encryption Consul Connect gives them on Nomad today.",
					Consequences: "The mesh stage installs nothing; the evaluate step reports SC-008 as not met.",
				},
			},
			Default:       "cilium",
			DefaultReason: "The PoC proved Cilium meets SC-008 on these mixed-arch nodes with one component that also replaces flannel; open 8472/udp and 4240/tcp on Hestia first.",
		},
		{
			Key: "cilium_ipam_mode", Type: String, Screen: "mesh",
			Title: "Cilium IPAM mode", Question: "How should Cilium give pods their addresses?",
			Why: "Cilium's default cluster-pool is 10.0.0.0/8, which covers K3s's 10.42/10.43 and any 10.x LAN.",
			Options: []Option{
				{
					Value:        "kubernetes",
					Summary:      "Use the per-node pod CIDRs K3s allocates from cluster_cidr.",
					Pros:         []string{"One source of pod addresses (cluster_cidr); nothing else to keep clear of the LAN."},
					Cons:         []string{"Pod CIDR per node is fixed by K3s (/24 by default)."},
					Homelab:      "Keeps pods inside 10.42.0.0/16, clear of the LAN, Nomad's bridge 172.26.64.0/20 and Docker's 172.17.0.0/16.",
					Consequences: "The mesh stage sets ipam.mode=kubernetes; cilium_pool_cidr is ignored.",
				},
				{
					Value:        "cluster-pool",
					Summary:      "Cilium allocates pod addresses from its own pool (cilium_pool_cidr).",
					Pros:         []string{"Cilium controls per-node pool sizes."},
					Cons:         []string{"A second address range to keep clear of the LAN, cluster_cidr and service_cidr."},
					Homelab:      "Cilium's default 10.0.0.0/8 would overlap the K3s networks, so cilium_pool_cidr must be set explicitly.",
					Consequences: "The mesh stage sets ipam.mode=cluster-pool with cilium_pool_cidr.",
				},
			},
			Default:       "kubernetes",
			DefaultReason: "One pod range (cluster_cidr) instead of two; nothing can overlap by accident.",
			AskWhen:       isOneOf("service_mesh", "cilium"),
		},
		{
			Key: "cilium_pool_cidr", Type: String, Screen: "mesh",
			Title: "Cilium pool CIDR", Question: "Which CIDR should Cilium's cluster-pool use?",
			Why:           "It must not cover the LAN, cluster_cidr or service_cidr.",
			Default:       "10.44.0.0/16",
			DefaultReason: "Next to K3s's 10.42 and 10.43, inside nothing else.",
			Validate:      validCIDR,
			AskWhen: func(a Answers) bool {
				e := Effective(a)
				return e.Str("service_mesh") == "cilium" && e.Str("cilium_ipam_mode") == "cluster-pool"
			},
		},
		// ----------------------------------------------------------- ingress ---
		{
			Key: "ingress_mode", Type: String, Screen: "ingress",
			Title:    "Ingress",
			Question: "How should HTTPS requests reach services on K3s?",
			Why:      "The external Traefik on Hestia owns ports 80/443 and the wildcard certificate for *.brmartin.co.uk; services must stay reachable at their original URLs.",
			Options: []Option{
				{
					Value:   "traefik-behind-external",
					Summary: "Traefik installed on K3s on a NodePort; the external Traefik forwards each host to it.",
					Pros: []string{
						"The PoC's layout: Ingress/IngressRoute objects live with the services in the cluster.",
						"The external Traefik keeps 80/443 and ACME; a service moves by switching one route.",
						"The wildcard certificate is the in-cluster default TLSStore.",
					},
					Cons: []string{
						"Two Traefik hops per request.",
						"The wildcard certificate must be copied into the cluster (the PoC extracted it from acme.json by hand; migrate-tui does it through the API).",
					},
					Homelab:      "Hestia's external Traefik gets a route per service to https://<node>:traefik_https_node_port; the PoC used NodePort 30443, which sits inside Nomad's dynamic ports, so the default here is 32443.",
					Consequences: "k3s_disable contains traefik and servicelb; traefik_http_node_port and traefik_https_node_port must lie inside node_port_range; the ingress stage installs Traefik through K3s's Helm controller.",
				},
				{
					Value:   "bundled-traefik",
					Summary: "K3s's packaged Traefik, exposed by ServiceLB on 80/443 of every node.",
					Pros: []string{
						"Nothing to install: K3s ships it.",
					},
					Cons: []string{
						"ServiceLB binds 80/443 on every node; the external Traefik on Hestia already owns them.",
						"Certificates and routes split between two Traefiks that both listen on 443.",
					},
					Homelab:      "Clashes with the external Traefik (Docker) on Hestia: refused while a node that runs it is in the cluster.",
					Consequences: "k3s_disable must not contain traefik or servicelb.",
				},
				{
					Value:   "external-direct",
					Summary: "The external Traefik routes straight to each Service's NodePort.",
					Pros: []string{
						"One hop; no ingress controller in the cluster (less memory).",
					},
					Cons: []string{
						"The external Traefik discovers routes from Consul catalog tags; K3s services are not in Consul, so each needs a file-provider route by hand.",
						"Every exposed service needs its own NodePort; TLS terminates only outside the cluster.",
					},
					Homelab:      "Keeps everything in Hestia's Traefik, but every service moved adds hand-kept routing config there.",
					Consequences: "The services stage gives each PoC service a NodePort inside node_port_range; no ingress stage install.",
				},
			},
			Default:       "traefik-behind-external",
			DefaultReason: "It is what the PoC ran, leaves 80/443 and ACME with the external Traefik, and lets services move one route at a time.",
		},
		{
			Key: "traefik_https_node_port", Type: Number, Screen: "ingress",
			Title: "Traefik HTTPS NodePort", Question: "Which NodePort should Traefik's websecure entrypoint use?",
			Why:           "The external Traefik forwards to this port on the nodes; it must be inside node_port_range.",
			Default:       int64(32443),
			DefaultReason: "Inside the default NodePort range 32001-32767, clear of Nomad's dynamic ports (the PoC's 30443 was not).",
			Validate:      validPort,
			AskWhen:       isOneOf("ingress_mode", "traefik-behind-external"),
		},
		{
			Key: "traefik_http_node_port", Type: Number, Screen: "ingress",
			Title: "Traefik HTTP NodePort", Question: "Which NodePort should Traefik's web entrypoint use?",
			Why:           "Plain HTTP from the external Traefik; it must be inside node_port_range.",
			Default:       int64(32080),
			DefaultReason: "Inside the default NodePort range 32001-32767.",
			Validate:      validPort,
			AskWhen:       isOneOf("ingress_mode", "traefik-behind-external"),
		},
		{
			Key: "tls_secret_name", Type: String, Screen: "ingress",
			Title: "Wildcard TLS Secret", Question: "What should the wildcard TLS Secret be called?",
			Why:           "migrate-tui creates it through the API from the certificate file, so the key never enters Terraform state.",
			Default:       "wildcard-tls",
			DefaultReason: "A plain, descriptive name; only the ingress stage refers to it.",
			Validate:      matches(dnsLabel, "a DNS label"),
		},
		{
			Key: "traefik_route_dir", Type: String, Screen: "ingress",
			Title: "External Traefik route directory", Question: "Which directory does the external Traefik's file provider watch (providers.file.directory, as its host sees it)? (empty: print the route for you to add)",
			Why:           "At cutover migrate-tui writes one route file per service there (migrate-tui-<service>.yml) to send its host to K3s, proves it with a request, and removes it on rollback.",
			Default:       "",
			DefaultReason: "homelab.md names no file-provider directory on Hestia; until one is set, cutover prints the route and asks you to confirm it was added (today's behaviour).",
			Consequences:  "Set: cutover writes and removes the route file itself (over SSH when traefik_route_node is another machine, host keys checked against known_hosts). Empty: the change is printed and confirmed with --routing-done.",
			Validate:      absolutePathOrEmpty,
		},
		{
			Key: "traefik_route_node", Type: String, Screen: "ingress",
			Title: "External Traefik node", Question: "On which node does the external Traefik run (reached over SSH unless it is this machine; empty: this machine)?",
			Why:           "The route directory is on that node; migrate-tui reaches it as the cluster stage reaches the nodes (ssh user, keys, known_hosts).",
			Default:       "hestia",
			DefaultReason: "The external Traefik runs in Docker on Hestia (homelab.md).",
			Consequences:  "Its address is the nodes entry of that name when there is one, else the name itself.",
			Validate: func(v any) error {
				if s := v.(string); s != "" && !hostName.MatchString(s) {
					return fmt.Errorf("%q is not a host name (empty: this machine)", s)
				}
				return nil
			},
		},
		{
			Key: "traefik_websecure_addr", Type: String, Screen: "ingress",
			Title: "External Traefik HTTPS entrypoint", Question: "At which host:port does the external Traefik's websecure entrypoint answer?",
			Why:           "After writing a route, migrate-tui proves it by a request for the service's host at this address (and the after-switch check asks again within 5 s).",
			Default:       "192.168.1.5:443",
			DefaultReason: "Hestia's LAN address (homelab.md) and the HTTPS port the external Traefik keeps.",
			Validate:      matches(hostPort, "host:port"),
		},
		// ------------------------------------------------------------- vault ---
		{
			Key: "vault_method", Type: String, Screen: "vault",
			Title:    "Vault method",
			Question: "How should pods get their secrets from the existing Vault?",
			Why:      "Nomad renders secrets from Vault KV v2 (nomad/default/<service>) with template blocks; SC-009 asks for a PoC service using Vault secrets.",
			Options: []Option{
				{
					Value:   "external-secrets",
					Summary: "External Secrets Operator syncs Vault secrets into Kubernetes Secrets.",
					Pros: []string{
						"Pods start even when Vault is unreachable: the Secret is already there.",
						"Plain Kubernetes Secrets, consumed as env or files; one ClusterSecretStore for all services.",
						"What the PoC used.",
					},
					Cons: []string{
						"Secrets are stored in etcd (turn on K3s --secrets-encryption).",
						"Refreshed hourly by default, not at once.",
						"Must use the GA API external-secrets.io/v1; v1beta1 failed in the PoC.",
					},
					Homelab:      "Vault runs outside the cluster: its Kubernetes auth needs a token-reviewer ServiceAccount bound to system:auth-delegator and a long-lived token (the PoC made these by hand).",
					Consequences: "The vault stage installs ESO, configures Vault's Kubernetes auth at vault_auth_mount and a ClusterSecretStore reading vault_kv_mount.",
				},
				{
					Value:   "agent-injector",
					Summary: "The Vault Agent Injector renders secrets into an in-memory volume in each pod.",
					Pros: []string{
						"Nothing lands in etcd.",
						"Same consul-template syntax as Nomad's template blocks ({{ with secret \"nomad/default/overseerr\" }}), so templates port over.",
					},
					Cons: []string{
						"A pod cannot start while Vault is unreachable.",
						"A Vault Agent sidecar in every pod that reads secrets.",
						"The injector's webhook needs its own TLS certificate.",
					},
					Homelab:      "Vault outside the cluster needs the same Kubernetes auth setup (kubernetes_host, the cluster CA, a token_reviewer_jwt).",
					Consequences: "The vault stage installs the injector and the Kubernetes auth role; the services stage annotates pods instead of creating ExternalSecrets.",
				},
			},
			Default:       "external-secrets",
			DefaultReason: "Pods do not depend on Vault being up to start, and the PoC proved it with ESO at external-secrets.io/v1.",
		},
		{
			Key: "vault_address", Type: String, Screen: "vault",
			Title: "Vault address", Question: "At which address do pods and ESO reach Vault?",
			Why:           "Vault stays outside the cluster; the address must resolve from pods (via CoreDNS forwarding .consul) and from Vault's side for the token review.",
			Default:       "https://vault.service.consul:8200",
			DefaultReason: "Vault registers in Consul; CoreDNS forwards .consul to Consul DNS during the hybrid period.",
			Validate:      validHTTPURL,
		},
		{
			Key: "vault_ca_file", Type: String, Screen: "vault",
			Title: "Vault CA file", Question: "Which PEM file holds the CA that signed Vault's certificate? (empty: publicly trusted)",
			Why:           "ESO checks Vault's TLS certificate; a Vault behind a private CA is refused unless its ClusterSecretStore carries that CA (caProvider, ConfigMap external-secrets/vault-ca).",
			Default:       "",
			DefaultReason: "Nothing here says Vault uses a private CA; set it when Vault's certificate is not publicly trusted.",
			Consequences:  "The vault stage puts the file's content (a CA certificate, not a secret) in the ConfigMap external-secrets/vault-ca and points the ClusterSecretStore at it.",
			Validate:      absolutePathOrEmpty,
			AskWhen:       isOneOf("vault_method", "external-secrets"),
		},
		{
			Key: "vault_kv_mount", Type: String, Screen: "vault",
			Title: "Vault KV mount", Question: "Which KV v2 mount holds the services' secrets?",
			Why:           "Nomad reads nomad/default/<service>; the PoC services read the same paths.",
			Default:       "nomad",
			DefaultReason: "The mount Nomad's templates read today.",
			Validate:      matches(mountName, "a mount name"),
		},
		{
			Key: "vault_auth_mount", Type: String, Screen: "vault",
			Title: "Vault auth mount", Question: "At which path should the cluster's Kubernetes auth method be mounted?",
			Why:           "A separate mount keeps the K3s cluster's auth apart from anything else.",
			Default:       "kubernetes-k3s",
			DefaultReason: "Names the cluster it serves.",
			Validate:      matches(mountName, "a mount name"),
		},
		// ----------------------------------------------------------- cluster ---
		{
			Key: "k3s_version", Type: String, Screen: "cluster",
			Title: "K3s version", Question: "Which K3s release should every node run?",
			Why:           "All servers must run the same release; pinning it makes the install repeatable.",
			Default:       "v1.34.3+k3s1",
			DefaultReason: "Matches the Kubernetes 1.34.3 the test world is built from.",
			Consequences:  "The cluster stage installs exactly this release over SSH.",
			Validate:      matches(k3sVersion, "v1.34.3+k3s1"),
		},
		{
			Key: "nodes", Type: NodeList, Screen: "cluster",
			Title: "Nodes and roles", Question: "Which nodes join the cluster, and as server or agent? (name=address/arch/role, comma-separated)",
			Why:           "The first server is initialised with cluster-init; roles must match the control-plane topology.",
			Default:       defaultNodes,
			DefaultReason: "The homelab's three nodes, all servers for ha-3-servers; preflight fills them from Nomad's inventory.",
			Consequences:  "The cluster stage connects to each address over SSH and installs the role given.",
			Validate:      validNodes,
		},
		{
			Key: "k3s_disable", Type: StringList, Screen: "cluster",
			Title: "Disabled K3s components", Question: "Which packaged K3s components should be disabled?",
			Why: "K3s's bundled Traefik and ServiceLB take 80/443 on every node, which the external Traefik on Hestia already owns.",
			Options: []Option{
				{Value: "traefik", Summary: "K3s's packaged Traefik ingress.", Pros: []string{"Frees 80/443 for the external Traefik."}, Cons: []string{"bundled-traefik ingress is then unavailable."}, Homelab: "Disable it unless ingress_mode is bundled-traefik.", Consequences: "The ingress stage installs its own Traefik (traefik-behind-external)."},
				{Value: "servicelb", Summary: "K3s's ServiceLB (klipper-lb) that binds LoadBalancer ports on the hosts.", Pros: []string{"No host ports taken behind Nomad's back."}, Cons: []string{"LoadBalancer Services stay pending."}, Homelab: "The PoC exposed Traefik on a NodePort, no LoadBalancer needed.", Consequences: "Services are exposed as NodePorts."},
				{Value: "local-storage", Summary: "The local-path provisioner.", Pros: []string{"One controller less."}, Cons: []string{"storage_backend local-path needs it."}, Homelab: "Keep it for the PoC's local-path volumes.", Consequences: "Refused together with storage_backend local-path."},
				{Value: "metrics-server", Summary: "The bundled metrics-server.", Pros: []string{"About 20-30 MB less."}, Cons: []string{"VPA (SC-002) needs metrics-server."}, Homelab: "Keep it: VPA recommendations are why K3s was kept after the PoC.", Consequences: "Refused: the VPA stage needs resource metrics."},
				{Value: "coredns", Summary: "The bundled CoreDNS.", Pros: []string{"None here."}, Cons: []string{"Pods cannot resolve anything, including .consul forwarding."}, Homelab: "CoreDNS forwards .consul to Consul DNS so pods reach Nomad services such as MinIO.", Consequences: "Refused: cluster DNS and .consul forwarding need it."},
			},
			Default:       []string{"traefik", "servicelb"},
			DefaultReason: "The external Traefik owns 80/443 on Hestia, so K3s's Traefik and ServiceLB must not take them.",
		},
		{
			Key: "cluster_cidr", Type: String, Screen: "cluster",
			Title: "Pod CIDR", Question: "Which CIDR should pods get addresses from (K3s --cluster-cidr)?",
			Why:           "It must not overlap the LAN, Nomad's bridge 172.26.64.0/20 or Docker's 172.17.0.0/16, and must be the same on every server.",
			Default:       "10.42.0.0/16",
			DefaultReason: "K3s's default; clear of the LAN 192.168.1.0/24, Nomad's bridge and Docker.",
			Validate:      validCIDR,
		},
		{
			Key: "service_cidr", Type: String, Screen: "cluster",
			Title: "Service CIDR", Question: "Which CIDR should Services get ClusterIPs from (K3s --service-cidr)?",
			Why:           "Cluster DNS takes its .10 address; it must not overlap the pod CIDR or the LAN.",
			Default:       "10.43.0.0/16",
			DefaultReason: "K3s's default (cluster DNS at 10.43.0.10); clear of everything on the hosts.",
			Validate:      validCIDR,
		},
		{
			Key: "lan_cidr", Type: String, Screen: "cluster",
			Title: "LAN CIDR", Question: "Which CIDR is the homelab LAN?",
			Why:           "No cluster network or Cilium pool may cover it, or pods could not reach the hosts.",
			Default:       "192.168.1.0/24",
			DefaultReason: "Hestia, Heracles and Nyx are 192.168.1.5-7.",
			Validate:      validCIDR,
		},
		{
			Key: "node_port_range", Type: String, Screen: "cluster",
			Title: "NodePort range", Question: "Which port range should K3s use for NodePorts (--service-node-port-range)?",
			Why:           "Nomad hands out dynamic ports 20000-32000 on the same hosts; K3s's default 30000-32767 overlaps it.",
			Default:       "32001-32767",
			DefaultReason: "Just above Nomad's default dynamic range, so neither has to change; the alternative is lowering Nomad's max_dynamic_port to 29999.",
			Consequences:  "Traefik's NodePorts and any NodePort service must lie inside it.",
			Validate: func(v any) error {
				lo, hi, err := PortRange(v.(string))
				if err == nil && lo >= hi {
					err = fmt.Errorf("%q: LOW must be below HIGH", v)
				}
				return err
			},
		},
		{
			Key: "nomad_dynamic_port_range", Type: String, Screen: "cluster",
			Title: "Nomad dynamic ports", Question: "Which dynamic port range do the Nomad clients use (min_dynamic_port-max_dynamic_port)?",
			Why:           "NodePorts must stay clear of it, or a Nomad allocation and a K3s Service can fight for a port.",
			Default:       "20000-32000",
			DefaultReason: "Nomad's default (nomad/structs/network.go); change it only if the clients set min/max_dynamic_port.",
			Validate: func(v any) error {
				_, _, err := PortRange(v.(string))
				return err
			},
		},
		{
			Key: "system_reserved", Type: String, Screen: "cluster",
			Title: "kubelet system-reserved", Question: "How much should kubelet reserve for the system (and Nomad)?",
			Why:           "Keeps K3s from scheduling pods into memory Nomad and Consul need.",
			Default:       "cpu=250m,memory=512Mi",
			DefaultReason: "Covers the ~160 MB Nomad and Consul agents plus the OS with headroom.",
			Validate:      matches(reservedRe, "cpu=250m,memory=512Mi"),
		},
		{
			Key: "kube_reserved", Type: String, Screen: "cluster",
			Title: "kubelet kube-reserved", Question: "How much should kubelet reserve for K3s itself?",
			Why:           "The K3s processes are not pods; kubelet must leave room for them.",
			Default:       "cpu=250m,memory=512Mi",
			DefaultReason: "The PoC measured about 500 MB per node for the K3s control plane plus Cilium.",
			Validate:      matches(reservedRe, "cpu=250m,memory=512Mi"),
		},
		{
			Key: "consul_dns_servers", Type: StringList, Screen: "cluster",
			Title: "Consul DNS servers", Question: "Which Consul DNS endpoints should CoreDNS forward .consul to? (host:port, comma-separated)",
			Why:           "During the hybrid period pods reach Nomad services such as MinIO as <service>.service.consul; the PoC had to add this by hand.",
			Default:       []string{"192.168.1.5:8600", "192.168.1.6:8600", "192.168.1.7:8600"},
			DefaultReason: "Consul DNS listens on 8600 on every node.",
			Validate: func(v any) error {
				for _, s := range v.([]string) {
					if !hostPort.MatchString(s) {
						return fmt.Errorf("%q is not host:port", s)
					}
				}
				return nil
			},
		},
		// ---------------------------------------------------------- services ---
		{
			Key: "domain", Type: String, Screen: "services",
			Title: "Domain", Question: "Under which DNS domain are the PoC services served (whoami.<domain>)?",
			Why:           "Services must answer at their original URLs with the wildcard certificate (SC-004).",
			Default:       "brmartin.co.uk",
			DefaultReason: "The external Traefik routes *.brmartin.co.uk today.",
			Validate:      matches(dnsName, "a DNS name such as example.org"),
		},
		{
			Key: "poc_host_pattern", Type: String, Screen: "services",
			Title: "PoC host", Question: "At which host should each PoC service answer during the PoC ({service} and {domain} are filled in)?",
			Why:           "The external Traefik still routes <service>.<domain> to Nomad; a route on K3s for the same host would shadow it. The production host moves at cutover.",
			Default:       DefaultPoCHostPattern,
			DefaultReason: "What the operator used in the PoC: whoami-k8s.<domain> beside Nomad's whoami.<domain>, covered by the same wildcard certificate.",
			Validate:      validHostPattern,
		},
		{
			Key: "poc_services", Type: StringList, Screen: "services",
			Title: "PoC services", Question: "Which PoC services should be deployed on K3s?",
			Why: "SC-001 asks for 2-3 services; together they exercise a stateless service, the mesh policy and a stateful SQLite service.",
			Options: []Option{
				{Value: "whoami", Summary: "Stateless HTTP echo of the request.", Pros: []string{"Proves ingress and TLS (SC-004) with nothing to lose."}, Cons: []string{"Exercises no storage or secrets."}, Homelab: "Runs on Nomad today as whoami.", Consequences: "Allowed to call echo through the mesh policy."},
				{Value: "echo", Summary: "Mesh partner that only whoami may call.", Pros: []string{"Proves mTLS and traffic policy (SC-008)."}, Cons: []string{"Meaningless without whoami."}, Homelab: "Runs on Nomad as an echo pair via Consul Connect.", Consequences: "The mesh stage's policy admits only whoami."},
				{Value: "overseerr", Summary: "SQLite + Litestream service with Vault secrets.", Pros: []string{"Proves data across restarts (SC-003) and Vault secrets (SC-009)."}, Cons: []string{"Needs storage where SQLite WAL works and its own Litestream bucket."}, Homelab: "Replicates to overseerr_litestream_bucket, never the Nomad copy's overseerr-litestream.", Consequences: "Refused with storage_backend glusterfs-nfs."},
			},
			Default:       []string{"whoami", "echo", "overseerr"},
			DefaultReason: "The three services the PoC ran; together they cover SC-001, SC-003, SC-004, SC-008 and SC-009.",
		},
		{
			Key: "poc_namespace", Type: String, Screen: "services",
			Title: "PoC namespace", Question: "Which namespace should the PoC services run in?",
			Why:           "One namespace keeps the PoC removable in one step.",
			Default:       "poc",
			DefaultReason: "Short and says what it is.",
			Validate:      matches(dnsLabel, "a DNS label"),
		},
		{
			Key: "vpa_update_mode", Type: String, Screen: "services",
			Title: "VPA update mode", Question: "What should the PoC services' VerticalPodAutoscalers do with their recommendations?",
			Why: "SC-002 asks for recommendations within 24 hours; VPA data is why K3s was kept after the PoC. The VPA stage installs VPA 1.4.1 (Fairwinds chart 4.8.0), whose CRD has no InPlaceOrRecreate, so it is not offered.",
			Options: []Option{
				{Value: "Off", Summary: "Only recommend.", Pros: []string{"Never restarts a pod."}, Cons: []string{"Requests change only by hand."}, Homelab: "Safe while Nomad shares the nodes.", Consequences: "The VPA stage needs only the recommender."},
				{Value: "Initial", Summary: "Apply recommendations when pods are created.", Pros: []string{"No evictions."}, Cons: []string{"Needs the admission controller and its TLS secret."}, Homelab: "The admission controller hung in the PoC until its TLS secret existed.", Consequences: "The VPA stage installs the admission controller with a generated certificate."},
				{Value: "Recreate", Summary: "Evict pods to apply recommendations.", Pros: []string{"Requests follow usage."}, Cons: []string{"Restarts pods."}, Homelab: "Every PoC service runs one replica, so each eviction is a short outage.", Consequences: "Admission controller and updater; the updater runs with --min-replicas=1, since at its default of 2 it never evicts a single-replica service."},
				{Value: "Auto", Summary: "VPA picks how to apply; in VPA 1.4 the same as Recreate.", Pros: []string{"What the PoC ran for Overseerr."}, Cons: []string{"Restarts pods.", "Deprecated from VPA 1.5 (use Recreate)."}, Homelab: "The PoC used Auto for Overseerr.", Consequences: "Admission controller and updater (--min-replicas=1, as for Recreate)."},
			},
			Default:       "Off",
			DefaultReason: "Recommendations are all SC-002 needs, and Off never evicts a pod on nodes Nomad shares.",
		},
		{
			Key: "minio_endpoint", Type: String, Screen: "services",
			Title: "MinIO endpoint", Question: "At which S3 endpoint does Litestream reach MinIO?",
			Why:           "MinIO stays on Nomad; pods reach it through CoreDNS's .consul forwarding. A *.virtual.consul name is a Consul transparent-proxy virtual IP that only Envoy sidecars route (developer.hashicorp.com/consul/docs/reference/dns, virtual service lookups), so K3s pods use <service>.service.consul.",
			Default:       "http://minio-minio.service.consul:9000",
			DefaultReason: "The address the operator's PoC used from K3s (the Nomad jobs use minio-minio.virtual.consul through their sidecars).",
			Validate:      validHTTPURL,
			AskWhen:       func(a Answers) bool { return contains(Effective(a).List("poc_services"), "overseerr") },
		},
		{
			Key: "overseerr_litestream_bucket", Type: String, Screen: "services",
			Title: "Overseerr Litestream bucket", Question: "Which bucket should the K3s copy of Overseerr replicate to?",
			Why:           "Two Litestream writers on one bucket corrupt each other's generations; the Nomad copy uses overseerr-litestream.",
			Default:       "overseerr-k8s-litestream",
			DefaultReason: "The separate bucket the PoC used.",
			Validate: func(v any) error {
				s := v.(string)
				if !bucketName.MatchString(s) {
					return fmt.Errorf("%q is not a valid bucket name", s)
				}
				if s == "overseerr-litestream" {
					return fmt.Errorf("overseerr-litestream is the Nomad copy's bucket; two Litestream writers would corrupt it. Use overseerr-k8s-litestream")
				}
				return nil
			},
			AskWhen: func(a Answers) bool { return contains(Effective(a).List("poc_services"), "overseerr") },
		},
		{
			Key: "overseerr_litestream_version", Type: String, Screen: "services",
			Title: "Overseerr Litestream version", Question: "Which Litestream image tag does the K3s copy of Overseerr run?",
			Why:           "Litestream 0.5 writes a new on-bucket format, LTX files under <path>/ltx/<level>/ (litestream v0.5.18 litestream.go LTXDir), where 0.3 reads <path>/generations/ (v0.3.13 litestream.go); a 0.3 restore of a 0.5 replica finds no backup and, with -if-replica-exists, leaves no database (shown with both binaries by internal/litestream's round-trip test). The K3s copy seeds its database from the Nomad job's replica, so it runs the Nomad job's version; the services stage reads the job's image tag and refuses a mismatch.",
			Default:       "0.5",
			DefaultReason: "The Nomad jobs run litestream/litestream:0.5.",
			Validate:      matches(litestreamVersion, "a version such as 0.5 or 0.5.18"),
			AskWhen:       func(a Answers) bool { return contains(Effective(a).List("poc_services"), "overseerr") },
		},
		{
			Key: "overseerr_litestream_vault_key", Type: String, Screen: "services",
			Title: "Overseerr Litestream credentials", Question: "Which Vault KV key holds the K3s copy's own S3 credentials (MINIO_ACCESS_KEY, MINIO_SECRET_KEY)?",
			Why:           "The K3s copy replicates to its own bucket with its own credentials; the Nomad job's default/overseerr keys are only read for the first start's read-only restore. Litestream reads LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY (cmd/litestream applyLitestreamEnv in v0.3.13 and v0.5.18), so the ExternalSecret and the injector template map the MINIO_* keys onto those names.",
			Default:       "default/overseerr-k8s",
			DefaultReason: "The separate Vault secret the operator's PoC used.",
			Validate: func(v any) error {
				s := v.(string)
				if !vaultKVKey.MatchString(s) {
					return fmt.Errorf("%q is not a KV path such as default/overseerr-k8s", s)
				}
				if s == "default/overseerr" {
					return fmt.Errorf("default/overseerr holds the Nomad job's credentials; the K3s copy needs its own (e.g. default/overseerr-k8s)")
				}
				return nil
			},
			AskWhen: func(a Answers) bool { return contains(Effective(a).List("poc_services"), "overseerr") },
		},
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
